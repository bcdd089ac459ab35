"""A kubeconfig through the API, signed by the tenant CA that lives in the real management cluster.

The CA is put where the controller keeps it (the tenant's pki Secret in its namespace); no tenant
apiserver is needed to issue a credential for it.
"""

import base64
import uuid
from datetime import UTC, datetime

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID
from django.conf import settings

from audit.models import AuditEvent
from tenants.models import KubeconfigIssue, Phase
from tenants.services import pki
from tenants.services.kube import Kube
from tenants.services.manifests import secrets
from tests.factories import make_tenant

pytestmark = pytest.mark.cluster


@pytest.fixture
def ready_tenant(users, management_cluster):
    tenant = make_tenant(org=users.org, name=f"api-kc-{uuid.uuid4().hex[:8]}", phase=Phase.READY,
                         endpoint="https://10.212.0.1:31443")
    kube = Kube(management_cluster.api_client())
    ca = pki.issue_ca(common_name="kubernetes", now=datetime.now(UTC), validity=settings.CA_VALIDITY)
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": tenant.namespace}})
    try:
        kube.create({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": secrets.secret_name(tenant, secrets.PKI), "namespace": tenant.namespace},
            "data": {k: base64.b64encode(v.encode()).decode()
                     for k, v in {pki.CA_CERT: ca.cert_pem, pki.CA_KEY: ca.key_pem}.items()},
        })
        yield tenant, ca
    finally:
        kube.delete("Namespace", tenant.namespace)


def test_member_downloads_a_personal_short_lived_kubeconfig(users, api, ready_tenant):
    tenant, ca = ready_tenant
    response = api(users.member).post(f"/api/clusters/{tenant.pk}/kubeconfig/")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/yaml"
    assert response["Cache-Control"] == "no-store"
    assert f"acme-{tenant.name}-member.kubeconfig" in response["Content-Disposition"]

    config = yaml.safe_load(response.content)
    assert config["clusters"][0]["cluster"]["server"] == tenant.endpoint
    assert base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]).decode() == ca.cert_pem
    cert_pem = base64.b64decode(config["users"][0]["user"]["client-certificate-data"]).decode()
    assert pki.signed_by(cert_pem, ca.cert_pem)
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "member"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == users.org.admin_group
    lifetime = cert.not_valid_after_utc - datetime.now(UTC)
    assert lifetime <= settings.KUBECONFIG_VALIDITY

    issue = KubeconfigIssue.objects.get(tenant=tenant)
    assert (issue.user, issue.serial_number) == (users.member, pki.serial_hex(cert_pem))
    assert AuditEvent.objects.filter(action="cluster.kubeconfig.download", actor=users.member).exists()


def test_viewer_gets_no_kubeconfig_even_when_the_cluster_is_ready(users, api, ready_tenant):
    tenant, _ = ready_tenant
    assert api(users.viewer).post(f"/api/clusters/{tenant.pk}/kubeconfig/").status_code == 403
    assert not KubeconfigIssue.objects.exists()
