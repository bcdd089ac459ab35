"""Break-glass on the real local cluster: an operator's kubeconfig for a Ready tenant works with the
official Python client (TLS verified) and kubectl, as system:masters; a member gets 404 for it."""

import json
import subprocess

import pytest
from kubernetes import client, config
from rest_framework.test import APIClient

from audit.models import AuditEvent
from localcluster import paths, versions
from tenants.models import KubeconfigIssue, Membership, Phase, ServiceType
from tenants.services import lifecycle
from tests.factories import make_org, make_user

pytestmark = [pytest.mark.cluster, pytest.mark.django_db]

KUBECTL = paths.bin_dir("kubernetes", versions.MANAGEMENT) / "kubectl"


@pytest.fixture
def ready_tenant(etcd_datastore, controller, unique_name):
    org = make_org()
    owner = make_user(role=Membership.Role.OWNER, org=org)
    tenant = lifecycle.tenant_create(organization=org, by=owner, name=unique_name,
                                     kubernetes_version=versions.TENANT_VERSIONS[-1],
                                     service_type=ServiceType.NODE_PORT)
    try:
        controller.run_until_settled(tenant.pk, timeout=300)
        tenant.refresh_from_db()
        assert tenant.phase == Phase.READY, tenant.conditions
        yield tenant
    finally:
        lifecycle.tenant_delete(tenant=tenant, by=owner)
        controller.run_until_settled(tenant.pk, timeout=300)


def test_operator_break_glass_is_system_masters_and_members_get_404(ready_tenant, tmp_path):
    tenant = ready_tenant
    staff = make_user(username=f"op-{tenant.name}", staff=True)
    member = make_user(role=Membership.Role.MEMBER, org=tenant.organization)
    url = f"/api/clusters/{tenant.pk}/break-glass-kubeconfig/"

    api = APIClient()
    api.force_authenticate(member)
    assert api.post(url, {"reason": "let me in"}, format="json").status_code == 404
    assert not KubeconfigIssue.objects.filter(tenant=tenant, kind=KubeconfigIssue.Kind.BREAK_GLASS).exists()

    api.force_authenticate(staff)
    response = api.post(url, {"reason": "INC-1: tenant apiserver unreachable for its owners"}, format="json")
    assert response.status_code == 200, response.content
    path = tmp_path / "break-glass.kubeconfig"
    path.write_bytes(response.content)

    # The official client, TLS verified: what the organisation's admin group may do, it may do too.
    k8s = config.new_client_from_config(config_file=str(path))
    assert k8s.configuration.verify_ssl is True
    core = client.CoreV1Api(k8s)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="break-glass")))
    core.create_namespaced_config_map("break-glass", client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="note"), data={"why": "incident"}))
    assert core.read_namespaced_config_map("note", "break-glass").data == {"why": "incident"}
    assert "kube-system" in {ns.metadata.name for ns in core.list_namespace().items}

    review = client.AuthenticationV1Api(k8s).create_self_subject_review(
        client.V1SelfSubjectReview(api_version="authentication.k8s.io/v1", kind="SelfSubjectReview"))
    assert review.status.user_info.username == staff.username
    assert "system:masters" in review.status.user_info.groups
    assert tenant.organization.admin_group not in review.status.user_info.groups

    whoami = subprocess.run([str(KUBECTL), f"--kubeconfig={path}", "auth", "whoami", "-o", "json"],
                            capture_output=True, text=True, timeout=60)
    assert whoami.returncode == 0, whoami.stderr
    user_info = json.loads(whoami.stdout)["status"]["userInfo"]
    assert user_info["username"] == staff.username and "system:masters" in user_info["groups"]

    issue = KubeconfigIssue.objects.get(tenant=tenant, kind=KubeconfigIssue.Kind.BREAK_GLASS)
    minutes = (issue.expires_at - issue.issued_at).total_seconds() / 60
    assert 59 < minutes <= 60
    event = AuditEvent.objects.get(action="cluster.kubeconfig.break_glass", object_id=str(tenant.pk))
    assert event.actor == staff and event.data["serial"] == issue.serial_number
    assert event.data["reason"].startswith("INC-1")
