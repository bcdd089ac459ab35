"""SQL datastores: the control plane runs a kine sidecar and the tenant works like any other."""

import uuid

import pytest

from datastores.services.registration import register_local_datastores
from localcluster import datastore_servers, versions
from tenants.models import Membership, Phase
from tenants.services import lifecycle
from tenants.services.controller import Controller
from tenants.services.manifests import labels
from tests.factories import make_org, make_user

pytestmark = [pytest.mark.cluster, pytest.mark.django_db]


@pytest.fixture(params=["postgresql", "mysql"])
def driver(request):
    """A local SQL server, stopped afterwards if this test started it."""
    was_running = datastore_servers.pid_of(request.param) is not None
    datastore_servers.start(request.param)
    yield request.param
    if not was_running:
        datastore_servers.stop(request.param)


def test_sql_datastore_tenant_becomes_ready_through_kine_and_is_removed(driver, tenant_kube):
    datastore = next(ds for ds in register_local_datastores() if ds.driver == driver)
    org = make_org()
    owner = make_user(role=Membership.Role.OWNER, org=org)
    controller = Controller(kube=tenant_kube, workers=1)
    tenant = lifecycle.tenant_create(organization=org, by=owner, name=f"kine-{uuid.uuid4().hex[:6]}",
                                     kubernetes_version=versions.TENANT_VERSIONS[-1], datastore=datastore)
    try:
        controller.run_until_settled(tenant.pk, timeout=300)
        tenant.refresh_from_db()
        assert tenant.phase == Phase.READY, tenant.conditions
        pod = tenant_kube.list("Pod", tenant.namespace, label_selector=f"{labels.TENANT_KEY}={tenant.pk}")[0]
        assert pod["spec"]["containers"][0]["name"] == "kine"
    finally:
        lifecycle.tenant_delete(tenant=tenant, by=owner)
        controller.run_until_settled(tenant.pk, timeout=300)
    assert tenant_kube.get("Namespace", tenant.namespace) is None
