"""Make sure a first operator and a first organisation exist (idempotent).

Credentials come from KAMAJI_UI_ADMIN_USERNAME / KAMAJI_UI_ADMIN_PASSWORD; without them a
password is generated and printed once, on the run that creates the user.
"""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from audit import log as audit
from tenants.models import Membership, Organization


class Command(BaseCommand):
    help = "Create the first admin user and organisation if they do not exist."

    @transaction.atomic
    def handle(self, *args, **options):
        User = get_user_model()
        username = os.environ.get("KAMAJI_UI_ADMIN_USERNAME", "admin")
        password = os.environ.get("KAMAJI_UI_ADMIN_PASSWORD")
        org, _ = Organization.objects.get_or_create(slug="default", defaults={"name": "Default"})
        user = User.objects.filter(username=username).first()
        if user is None:
            generated = password is None
            password = password or secrets.token_urlsafe(12)
            user = User.objects.create_superuser(username=username, password=password, email="")
            audit.record(None, "user.create", user, organization=org, username=username, staff=True)
            shown = password if generated else "(from KAMAJI_UI_ADMIN_PASSWORD)"
            self.stdout.write(self.style.SUCCESS(f"Created operator {username!r} with password: {shown}"))
        elif password and not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
            self.stdout.write(f"Operator {username!r}: password reset from KAMAJI_UI_ADMIN_PASSWORD")
        else:
            self.stdout.write(f"Operator {username!r} exists.")
        Membership.objects.get_or_create(user=user, organization=org, defaults={"role": Membership.Role.OWNER})
