"""A tenant cluster end to end on the real local cluster: API create → Ready → kubeconfig works
(Python client and kubectl, TLS verified) → 3 replicas survive a pod loss → delete leaves nothing.

One cluster serves the whole module (creating one takes ~15 s); the tests run in file order.
"""

import json
import ssl
import subprocess
import time
from datetime import timedelta

import pytest
import requests
import urllib3
import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from kubernetes import client, config
from rest_framework.test import APIClient

from audit.models import AuditEvent
from datastores.services.registration import register_local_datastores
from localcluster import netns, paths, versions
from tenants.models import KubeconfigIssue, Membership, Organization, Phase, TenantControlPlane
from tenants.services import lifecycle, pki, queue
from tenants.services.controller import Controller
from tenants.services.manifests import labels, secrets
from tenants.services.tenant_access import probe
from tests.factories import make_org, make_user
from tests.tenants.integration.conftest import etcd_keys_under, etcd_users, objects_of

# Each test runs in a transaction rolled back at its end; the module's cluster row is committed
# by the `world` fixture, so it outlives them.
pytestmark = [pytest.mark.cluster, pytest.mark.django_db]

VERSION = versions.TENANT_VERSIONS[0]
KUBECTL = paths.bin_dir("kubernetes", versions.MANAGEMENT) / "kubectl"


class World:
    """What the module's tests share: people, the cluster, and the controller."""

    tenant: TenantControlPlane
    org: Organization
    member = owner = viewer = outsider = None
    controller: Controller
    created_in: float


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, local_etcd_server, tenant_kube, unique_module_name):
    w = World()
    with django_db_blocker.unblock():
        etcd = next(ds for ds in register_local_datastores() if ds.driver == "etcd")
        etcd.is_default = True
        etcd.save(update_fields=["is_default"])
        w.org = make_org()
        w.owner = make_user(role=Membership.Role.OWNER, org=w.org)
        w.member = make_user(role=Membership.Role.MEMBER, org=w.org)
        w.viewer = make_user(role=Membership.Role.VIEWER, org=w.org)
        w.outsider = make_user(role=Membership.Role.OWNER, org=make_org())
        w.controller = Controller(kube=tenant_kube, workers=1)
        api = APIClient()
        api.force_authenticate(w.owner)
        started = time.monotonic()
        response = api.post("/api/clusters/", {
            "organization": w.org.slug, "name": unique_module_name, "kubernetes_version": VERSION,
            "service_type": "NodePort",
        }, format="json")
        assert response.status_code == 201, response.content
        pk = response.json()["id"]
        queued = [queue.next_key(timeout=1.0)]
        assert pk in queued  # the create was handed to the controller after commit
        w.controller.run_until_settled(pk, timeout=300)
        w.created_in = time.monotonic() - started
        w.tenant = TenantControlPlane.objects.get(pk=pk)
    yield w
    with django_db_blocker.unblock():
        tenant = TenantControlPlane.objects.filter(pk=w.tenant.pk).first()
        if tenant is not None:  # a test failed before deleting it: clean up anyway
            lifecycle.tenant_delete(tenant=tenant, by=w.owner)
            w.controller.run_until_settled(tenant.pk, timeout=300)
        orgs = [w.org.pk, w.outsider.memberships.get().organization_id]
        get_user_model().objects.filter(pk__in=[w.owner.pk, w.member.pk, w.viewer.pk, w.outsider.pk]).delete()
        AuditEvent.objects.filter(organization_id__in=orgs).delete()
        Organization.objects.filter(pk__in=orgs).delete()


@pytest.fixture(scope="module")
def unique_module_name():
    import uuid

    return f"it-{uuid.uuid4().hex[:8]}"


def download(world, user) -> requests.Response:
    api = APIClient()
    api.force_authenticate(user)
    return api.get(f"/api/clusters/{world.tenant.pk}/kubeconfig/")


def test_created_through_the_api_it_becomes_ready_with_all_conditions(world):
    t = world.tenant
    assert t.phase == Phase.READY
    assert {c["type"]: c["status"] for c in t.conditions} == {
        "DatastoreReady": "True", "EndpointReady": "True", "CertificatesReady": "True",
        "DeploymentAvailable": "True", "Ready": "True",
    }
    # The local cluster publishes NodePorts on 127.0.0.1, on the machine and in the node's namespace.
    assert t.endpoint.startswith(f"https://{settings.NODEPORT_HOST}:") and settings.NODEPORT_HOST == "127.0.0.1"
    assert t.observed_version == VERSION
    assert t.observed_generation == t.generation
    print(f"\ncreate → Ready in {world.created_in:.1f}s")


def test_objects_are_labelled_owned_and_the_node_address_is_in_the_certificate(world, tenant_kube):
    t = world.tenant
    found = objects_of(tenant_kube, str(t.uid))
    assert found["Namespace"] == [t.namespace]
    assert found["Secret"] == sorted(f"{t.name}-{p}" for p in ("pki", "kubeconfigs", "datastore"))
    assert found["Deployment"] == [t.name] and found["Service"] == [t.name]
    anchor = tenant_kube.get("ConfigMap", f"{t.name}-owner", t.namespace)
    for kind, name in (("Secret", f"{t.name}-pki"), ("Deployment", t.name), ("Service", t.name)):
        owners = tenant_kube.get(kind, name, t.namespace)["metadata"]["ownerReferences"]
        assert [o["uid"] for o in owners] == [anchor["metadata"]["uid"]]
    pki_data = secrets.secret_text(tenant_kube.get("Secret", f"{t.name}-pki", t.namespace))
    sans = pki.certificate_sans(pki_data["apiserver.crt"])
    assert {"10.212.0.1", "127.0.0.1", "10.96.0.1", "kubernetes.default.svc.cluster.local",
            f"{t.name}.{t.namespace}.svc"} <= sans
    # Private keys live only in the cluster: nothing PEM-like in the app database row.
    assert "PRIVATE KEY" not in json.dumps(list(TenantControlPlane.objects.filter(pk=t.pk).values()), default=str)
    events = tenant_kube.list("Event", t.namespace)
    assert {"CertificatesIssued", "DeploymentApplied", "Ready"} <= {e["reason"] for e in events}


def test_member_kubeconfig_works_with_the_python_client_tls_verified(world, tmp_path):
    response = download(world, world.member)
    assert response.status_code == 200
    path = tmp_path / "member.kubeconfig"
    path.write_bytes(response.content)
    kubeconfig = yaml.safe_load(response.content)
    assert kubeconfig["clusters"][0]["cluster"]["server"] == world.tenant.endpoint
    assert "insecure-skip-tls-verify" not in kubeconfig["clusters"][0]["cluster"]

    api = config.new_client_from_config(config_file=str(path))
    assert api.configuration.verify_ssl is True
    assert client.VersionApi(api).get_code().git_version == VERSION
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="from-python")))
    core.create_namespaced_config_map("from-python", client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="hello"), data={"greeting": "hi"}))
    assert core.read_namespaced_config_map("hello", "from-python").data == {"greeting": "hi"}
    # The tenant's own audit identity is the person: who am I?
    review = client.AuthenticationV1Api(api).create_self_subject_review(
        client.V1SelfSubjectReview(api_version="authentication.k8s.io/v1", kind="SelfSubjectReview"))
    assert review.status.user_info.username == world.member.username
    assert world.org.admin_group in review.status.user_info.groups

    issue = KubeconfigIssue.objects.filter(tenant=world.tenant, user=world.member).get()
    hours = (issue.expires_at - issue.issued_at).total_seconds() / 3600
    assert 23.9 < hours <= 24.0
    assert AuditEvent.objects.filter(action="cluster.kubeconfig.download", actor=world.member).count() == 1


def test_member_kubeconfig_works_from_the_machine_through_the_forwarder(world, tmp_path):
    """The node lives in its own network namespace; a user of the machine downloads the same file
    and reaches the tenant on the machine's 127.0.0.1, where the forwarder publishes the NodePort."""
    response = download(world, world.member)
    path = tmp_path / "member.kubeconfig"
    path.write_bytes(response.content)
    server = yaml.safe_load(response.content)["clusters"][0]["cluster"]["server"]
    assert server.startswith("https://127.0.0.1:")
    api = config.new_client_from_config(config_file=str(path))
    deadline = time.monotonic() + 15  # the forwarder follows Services through a watch
    with netns.on_host():
        assert not netns.is_inside()
        while True:
            try:
                assert client.VersionApi(api).get_code().git_version == VERSION
                break
            except urllib3.exceptions.MaxRetryError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        names = [ns.metadata.name for ns in client.CoreV1Api(api).list_namespace().items]
    assert "kube-system" in names


def test_owner_kubeconfig_works_with_the_built_kubectl(world, tmp_path):
    response = download(world, world.owner)
    assert response.status_code == 200
    path = tmp_path / "owner.kubeconfig"
    path.write_bytes(response.content)

    def kubectl(*args: str) -> str:
        done = subprocess.run([str(KUBECTL), f"--kubeconfig={path}", *args], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert json.loads(kubectl("version", "-o", "json"))["serverVersion"]["gitVersion"] == VERSION
    kubectl("create", "namespace", "from-kubectl")
    kubectl("-n", "from-kubectl", "create", "configmap", "settings", "--from-literal=color=blue")
    got = json.loads(kubectl("-n", "from-kubectl", "get", "configmap", "settings", "-o", "json"))
    assert got["data"] == {"color": "blue"}


def test_viewer_is_refused_and_an_outsider_gets_404(world):
    before = KubeconfigIssue.objects.count()
    assert download(world, world.viewer).status_code == 403
    assert download(world, world.outsider).status_code == 404
    assert KubeconfigIssue.objects.count() == before


def tenant_pods(kube, tenant) -> list[dict]:
    return kube.list("Pod", tenant.namespace, label_selector=f"{labels.TENANT_KEY}={tenant.pk}")


def ready(pod: dict) -> bool:
    return not pod["metadata"].get("deletionTimestamp") and any(
        c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))


def readyz(kube, tenant, *, within: float = 5.0) -> int:
    """The tenant's /readyz through its Service, verifying the serving certificate.

    Retries for `within` seconds, as any Kubernetes client does: while a pod goes, kube-proxy on a
    loaded node can take a moment to move its rules, and a refused connection in that moment is
    not an outage of the control plane.
    """
    ca = secrets.secret_text(kube.get("Secret", f"{tenant.name}-pki", tenant.namespace))["ca.crt"]
    deadline = time.monotonic() + within
    while True:
        try:
            return probe(tenant.endpoint, "/readyz", ca_pem=ca).status_code
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_three_replicas_survive_losing_a_pod(world, tenant_kube):
    tenant = lifecycle.tenant_update(tenant=world.tenant, by=world.owner, replicas=3)
    world.controller.run_until_settled(tenant.pk, timeout=300)
    pods = tenant_pods(tenant_kube, tenant)
    assert len(pods) == 3 and all(ready(p) for p in pods)
    assert tenant_kube.get("PodDisruptionBudget", tenant.name, tenant.namespace)["spec"]["maxUnavailable"] == 1

    lost = pods[0]["metadata"]["name"]
    tenant_kube.delete("Pod", lost, tenant.namespace)
    deadline = time.monotonic() + 120
    while True:
        world.controller.run_once(tenant.pk)
        tenant.refresh_from_db()
        assert tenant.phase == Phase.READY, tenant.conditions
        assert readyz(tenant_kube, tenant) == 200
        names = [p["metadata"]["name"] for p in tenant_pods(tenant_kube, tenant) if ready(p)]
        if len(names) == 3 and lost not in names:
            break
        assert time.monotonic() < deadline, f"the lost pod was not replaced: {names}"
        time.sleep(2)

    lifecycle.tenant_update(tenant=tenant, by=world.owner, replicas=1)
    world.controller.run_until_settled(tenant.pk, timeout=300)
    assert tenant_kube.get("PodDisruptionBudget", tenant.name, tenant.namespace) is None


def test_certificates_within_the_renewal_window_are_renewed_and_served(world, tenant_kube, settings):
    tenant = TenantControlPlane.objects.get(pk=world.tenant.pk)
    before = secrets.secret_text(tenant_kube.get("Secret", f"{tenant.name}-pki", tenant.namespace))
    settings.CERTIFICATE_RENEW_BEFORE = timedelta(days=400)  # every 365-day leaf is now "about to expire"
    world.controller.run_once(tenant.pk)
    settings.CERTIFICATE_RENEW_BEFORE = timedelta(days=30)
    after = secrets.secret_text(tenant_kube.get("Secret", f"{tenant.name}-pki", tenant.namespace))
    assert after["ca.crt"] == before["ca.crt"] and after["sa.key"] == before["sa.key"]  # kubeconfigs stay valid
    assert after["apiserver.crt"] != before["apiserver.crt"]
    assert after["front-proxy-client.crt"] != before["front-proxy-client.crt"]

    world.controller.run_until_settled(tenant.pk, timeout=300)  # the pods rolled onto the new files
    host, port = tenant.endpoint.removeprefix("https://").rsplit(":", 1)
    served = ssl.get_server_certificate((host, int(port)))
    assert pki.serial_hex(served) == pki.serial_hex(after["apiserver.crt"])
    tenant.refresh_from_db()
    assert tenant.phase == Phase.READY


def test_delete_leaves_nothing_in_the_cluster_or_the_datastore(world, tenant_kube):
    tenant = TenantControlPlane.objects.select_related("datastore").get(pk=world.tenant.pk)
    datastore, uid = tenant.datastore, str(tenant.uid)
    from datastores.drivers.etcd import etcd_prefix_for, etcd_user_for

    assert etcd_user_for(tenant) in etcd_users(datastore)
    assert etcd_keys_under(datastore, etcd_prefix_for(tenant)) > 0
    assert download(world, world.member).status_code == 200

    lifecycle.tenant_delete(tenant=tenant, by=world.owner)
    started = time.monotonic()
    world.controller.run_until_settled(tenant.pk, timeout=300)
    print(f"\ndelete → gone in {time.monotonic() - started:.1f}s")
    assert not TenantControlPlane.objects.filter(pk=tenant.pk).exists()
    assert objects_of(tenant_kube, uid) == {}
    assert tenant_kube.get("Namespace", tenant.namespace) is None
    assert etcd_user_for(tenant) not in etcd_users(datastore)
    assert etcd_keys_under(datastore, etcd_prefix_for(tenant)) == 0
    # The record of who held a credential outlives the cluster.
    assert KubeconfigIssue.objects.filter(cluster_name=str(tenant), tenant=None, user=world.member).count() == 1
