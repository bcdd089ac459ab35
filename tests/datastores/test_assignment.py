"""Choosing a datastore for a new tenant: enabled, healthy, with room, the default first, then the least loaded."""

import pytest

from tenants.models import TenantControlPlane
from tenants.services.datastore_assignment import NoDatastoreAvailable, assign_datastore
from tests.factories import make_datastore, make_org, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return make_org()


def test_the_default_datastore_is_preferred_while_it_has_room(org):
    make_datastore(name="a-plain")
    default = make_datastore(name="z-default", is_default=True, max_tenants=2)
    chosen = [assign_datastore(make_tenant(org=org)).name for _ in range(3)]
    assert chosen == ["z-default", "z-default", "a-plain"]
    assert TenantControlPlane.objects.filter(datastore=default).count() == 2


def test_disabled_and_unhealthy_datastores_are_skipped(org):
    make_datastore(name="off", enabled=False, is_default=True)
    make_datastore(name="sick", healthy=False, is_default=True)
    make_datastore(name="fine", healthy=None)  # never checked yet: usable
    assert assign_datastore(make_tenant(org=org)).name == "fine"


def test_among_equals_the_least_loaded_wins(org):
    busy, idle = make_datastore(name="busy"), make_datastore(name="idle")
    make_tenant(org=org, datastore=busy)
    assert assign_datastore(make_tenant(org=org)) == idle


def test_full_datastores_give_a_clear_error(org):
    full = make_datastore(name="full", max_tenants=1)
    make_tenant(org=org, datastore=full)
    tenant = make_tenant(org=org)
    with pytest.raises(NoDatastoreAvailable, match="full: 1"):
        assign_datastore(tenant)
    tenant.refresh_from_db()
    assert tenant.datastore is None


def test_no_datastore_at_all_says_so(org):
    with pytest.raises(NoDatastoreAvailable, match="register or enable"):
        assign_datastore(make_tenant(org=org))


def test_an_assigned_tenant_keeps_its_datastore_and_its_generation(org):
    first, other = make_datastore(name="first", is_default=True), make_datastore(name="other")
    tenant = make_tenant(org=org)
    generation = tenant.generation
    assert assign_datastore(tenant) == first
    first.enabled = False
    first.save()
    assert assign_datastore(tenant) == first  # never moved by assignment, even when its datastore is disabled
    tenant.save()  # the assignment is not a spec change
    tenant.refresh_from_db()
    assert tenant.datastore == first and tenant.generation == generation
    assert other.tenants.count() == 0
