"""Reads: every query that lists clusters goes through here, scoped by tenants.authorization."""

from django.db.models import OuterRef, Subquery

from audit.models import AuditEvent
from kamaji_ui.operators import is_operator
from tenants.authorization import Action, organizations_for, visible_tenants
from tenants.models import Membership, Phase, TenantControlPlane, Upgrade


def tenant_list_for(user):
    return visible_tenants(user).order_by("organization__name", "name")


def upgrades_for(user):
    return Upgrade.objects.filter(tenant__in=visible_tenants(user)).select_related("tenant", "requested_by")


def tenants_not_ready():
    """Fleet view for operators: clusters that need attention."""
    return TenantControlPlane.objects.select_related("organization").exclude(phase=Phase.READY).order_by("-updated_at")


def organizations_with_role_for(user):
    """The caller's organisations (all, for operators), each annotated with the caller's `role` (or None)."""
    role = Membership.objects.filter(organization=OuterRef("pk"), user=user).values("role")[:1]
    return organizations_for(user, Action.VIEW).annotate(role=Subquery(role)).order_by("name")


def audit_events_visible_to(user):
    """The audit log as `user` may read it: operators all of it; others the events of the
    organisations they belong to (any role), never system-wide or other organisations' events."""
    qs = AuditEvent.objects.select_related("organization")
    if is_operator(user):
        return qs
    return qs.filter(organization__in=organizations_for(user, Action.VIEW))
