"""The people of the authorization rules: one organisation with one cluster, and a person per role.

`users` gives anonymous-free roles only; tests that need an anonymous caller just skip login.
"""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User

from tenants.models import Membership, Organization, TenantControlPlane
from tests.factories import make_org, make_tenant, make_user

ROLES = ("outsider", "viewer", "member", "owner", "staff")


@dataclass
class People:
    org: Organization
    cluster: TenantControlPlane
    other_org: Organization
    other_cluster: TenantControlPlane  # the outsider's own cluster, which nobody else in `org` may see
    outsider: User
    viewer: User
    member: User
    owner: User
    staff: User

    def __getitem__(self, role: str) -> User:
        return getattr(self, role)


@pytest.fixture
def users(db) -> People:
    """outsider (member of another org only), viewer, member, owner of `org`, and staff (no membership)."""
    org = make_org(slug="acme", name="Acme")
    other_org = make_org(slug="globex", name="Globex")
    return People(
        org=org,
        cluster=make_tenant(org=org, name="prod"),
        other_org=other_org,
        other_cluster=make_tenant(org=other_org, name="theirs"),
        outsider=make_user(username="outsider", role=Membership.Role.OWNER, org=other_org),
        viewer=make_user(username="viewer", role=Membership.Role.VIEWER, org=org),
        member=make_user(username="member", role=Membership.Role.MEMBER, org=org),
        owner=make_user(username="owner", role=Membership.Role.OWNER, org=org),
        staff=make_user(username="staff", staff=True),
    )
