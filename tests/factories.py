"""Plain functions that make valid rows for tests: one place, so a model change is one edit.

Each object is validated with the model's own rules (full_clean) before it is saved, so a test
never starts from a state the product could not have produced.
"""

from itertools import count

from django.contrib.auth import get_user_model

from datastores.models import DataStore
from tenants.models import Membership, Organization, TenantControlPlane, Upgrade

_serial = count(1)


def make_org(*, name: str | None = None, slug: str | None = None) -> Organization:
    n = next(_serial)
    slug = slug or (name.lower().replace(" ", "-") if name else f"org-{n}")
    return Organization.objects.create(name=name or f"Organisation {n}", slug=slug)


def make_user(
    *, username: str | None = None, role: str | None = None, org: Organization | None = None,
    staff: bool = False, password: str | None = None,
):
    """A user, optionally a member of `org` with `role` (owner/member/viewer).

    Without `password` the password is unusable (log in with `client.force_login`): hashing
    costs a noticeable fraction of a second on this machine.
    """
    username = username or f"user{next(_serial)}"
    user = get_user_model().objects.create_user(username=username, email=f"{username}@example.test",
                                                password=password, is_staff=staff)
    if role is not None:
        if org is None:
            raise ValueError("a role needs an org")
        Membership.objects.create(user=user, organization=org, role=role)
    return user


def make_tenant(*, org: Organization, **fields) -> TenantControlPlane:
    """A cluster row in `org` (no Kubernetes objects). Status fields such as phase may be given."""
    fields.setdefault("name", f"cluster-{next(_serial)}")
    tenant = TenantControlPlane(organization=org, **fields)
    tenant.full_clean(exclude=["created_by"])
    tenant.save()
    return tenant


def make_upgrade(*, tenant: TenantControlPlane, **fields) -> Upgrade:
    fields.setdefault("from_version", tenant.kubernetes_version)
    fields.setdefault("to_version", tenant.kubernetes_version)
    return Upgrade.objects.create(tenant=tenant, **fields)


def make_datastore(**fields) -> DataStore:
    fields.setdefault("name", f"datastore-{next(_serial)}")
    fields.setdefault("driver", DataStore.Driver.ETCD)
    fields.setdefault("endpoints", ["https://127.0.0.1:2379"])
    datastore = DataStore(**fields)
    datastore.full_clean()
    datastore.save()
    return datastore
