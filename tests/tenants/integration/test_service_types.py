"""The Service type decides the endpoint; a new endpoint means a serving certificate that covers it."""

import ssl
import uuid

import pytest

from localcluster import versions
from tenants.models import Membership, Phase, ServiceType
from tenants.services import lifecycle, pki
from tenants.services.controller import Controller
from tenants.services.manifests import secrets
from tests.factories import make_org, make_user

pytestmark = [pytest.mark.cluster, pytest.mark.django_db]


def served_certificate(endpoint: str) -> str:
    host, port = endpoint.removeprefix("https://").rsplit(":", 1)
    return ssl.get_server_certificate((host, int(port)))


def test_cluster_ip_then_node_port_reissues_the_serving_certificate_for_the_new_address(
    etcd_datastore, tenant_kube, management_cluster
):
    org = make_org()
    owner = make_user(role=Membership.Role.OWNER, org=org)
    controller = Controller(kube=tenant_kube, workers=1)
    tenant = lifecycle.tenant_create(organization=org, by=owner, name=f"svc-{uuid.uuid4().hex[:6]}",
                                     kubernetes_version=versions.TENANT_VERSIONS[-1],
                                     service_type=ServiceType.CLUSTER_IP, port=443)
    try:
        controller.run_until_settled(tenant.pk, timeout=300)
        tenant.refresh_from_db()
        service = tenant_kube.get("Service", tenant.name, tenant.namespace)
        assert tenant.phase == Phase.READY
        assert tenant.endpoint == f"https://{service['spec']['clusterIP']}:443"
        first = secrets.secret_text(tenant_kube.get("Secret", f"{tenant.name}-pki", tenant.namespace))
        assert management_cluster.node_ip not in pki.certificate_sans(first["apiserver.crt"])

        tenant = lifecycle.tenant_update(tenant=tenant, by=owner, service_type=ServiceType.NODE_PORT)
        controller.run_until_settled(tenant.pk, timeout=300)
        tenant.refresh_from_db()
        node_port = tenant_kube.get("Service", tenant.name, tenant.namespace)["spec"]["ports"][0]["nodePort"]
        assert tenant.phase == Phase.READY
        assert tenant.endpoint == f"https://127.0.0.1:{node_port}"  # settings.NODEPORT_HOST, the forwarder's
        second = secrets.secret_text(tenant_kube.get("Secret", f"{tenant.name}-pki", tenant.namespace))
        assert second["ca.crt"] == first["ca.crt"]
        assert management_cluster.node_ip in pki.certificate_sans(second["apiserver.crt"])
        assert pki.serial_hex(served_certificate(tenant.endpoint)) == pki.serial_hex(second["apiserver.crt"])
    finally:
        lifecycle.tenant_delete(tenant=tenant, by=owner)
        controller.run_until_settled(tenant.pk, timeout=300)
