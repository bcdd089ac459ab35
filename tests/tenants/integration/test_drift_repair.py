"""Drift is repaired at once: with `manage.py controller` running, every object a Ready tenant owns
in the management cluster is deleted or edited behind the controller's back, and is back (same
spec) within 5 s -- from the informers, not the resync (set to an hour here).

Deleting the pki Secret loses the tenant CA (its key lives nowhere else): the reconcile issues a
new one, re-signs the component kubeconfigs, rolls the pods, re-applies cluster-info inside the
tenant, and the tenant is Ready again with one consistent CA; kubeconfigs downloaded before
are signed by the old CA and stop working (new downloads work).
"""

import base64
import ssl
import time
import uuid

import pytest
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from localcluster import versions
from tenants.services import pki
from tenants.services.kubeconfig import client_certificate_of
from tenants.services.manifests import secrets
from tenants.services.tenant_access import probe
from tests.tenants.integration.controller_process import ManagePy
from tests.waiting import wait_for

pytestmark = [pytest.mark.cluster]

REPAIR_SECONDS = 5.0
SETTLE_SECONDS = 240
VERSION, OTHER_VERSION = versions.TENANT_VERSIONS[-1], versions.TENANT_VERSIONS[0]

ISSUE_KUBECONFIG = """
from django.contrib.auth.models import User
from tenants.models import TenantControlPlane
from tenants.services.kubeconfig_download import issue_kubeconfig_for
text = issue_kubeconfig_for(user=User.objects.get(username="owner"), tenant=TenantControlPlane.objects.get(pk={pk}))
open({path!r}, "w").write(text)
"""

# What "the same object" means per kind: what the controller declares (server-assigned fields such
# as a Service's clusterIP, and Secret values a re-issue changes, are not the spec).
FINGERPRINT = {
    "Deployment": lambda o: (o["metadata"]["labels"], o["spec"]["replicas"], o["spec"]["selector"],
                             o["spec"]["template"]),
    "Service": lambda o: (o["metadata"]["labels"], o["spec"]["type"], o["spec"]["selector"],
                          [(p["name"], p["port"], p["targetPort"], p["protocol"]) for p in o["spec"]["ports"]]),
    "PodDisruptionBudget": lambda o: (o["metadata"]["labels"], o["spec"]),
    "Secret": lambda o: (o["metadata"]["labels"], o["type"], sorted(o.get("data") or {})),
    "ConfigMap": lambda o: (o["metadata"]["labels"], o.get("data")),
}


def settled(kube, manage, pk, namespace, name) -> bool:
    """Ready in the database, the rollout complete (2 pods, none going), /readyz 200 with the current CA."""
    row = manage.row(pk) or {}
    dep = kube.get("Deployment", name, namespace)
    if row.get("phase") != "Ready" or dep is None:
        return False
    st = dep.get("status") or {}
    if st.get("observedGeneration") != dep["metadata"]["generation"] or not (
        st.get("updatedReplicas") == st.get("availableReplicas") == st.get("replicas") == 2
    ):
        return False
    pods = kube.list("Pod", namespace)
    if len(pods) != 2 or any(p["metadata"].get("deletionTimestamp") for p in pods):
        return False
    ca = secrets.secret_text(kube.get("Secret", f"{name}-pki", namespace)).get(pki.CA_CERT)
    try:
        return bool(ca) and probe(row["endpoint"], "/readyz", ca_pem=ca).status_code == 200
    except Exception:  # the old pods' certificate, a moving endpoint: not yet
        return False


def repaired_after(kube, kind, name, namespace, want, started, *, gone_uid=None, timeout=60.0) -> float:
    """Seconds from `started` until the object exists again (a new one, if `gone_uid`) with `want`'s spec."""
    while True:
        obj = kube.get(kind, name, namespace)
        if obj is not None and obj["metadata"]["uid"] != gone_uid and not obj["metadata"].get("deletionTimestamp") \
                and FINGERPRINT[kind](obj) == want:
            return time.monotonic() - started
        assert time.monotonic() - started < timeout, f"{kind} {name} not repaired after {timeout:.0f}s"
        time.sleep(0.1)


def test_deleted_or_edited_owned_objects_are_back_within_5s(tmp_path, tenant_kube, namespace, local_etcd_server):
    manage = ManagePy(tmp_path, lease_namespace=namespace)
    manage.env["KAMAJI_UI_RESYNC_SECONDS"] = "3600"  # repairs must come from the watches
    manage.migrate()
    controller = manage.popen("controller", log=tmp_path / "controller.log")
    kube = tenant_kube
    name = f"drift-{uuid.uuid4().hex[:6]}"
    pk = None
    try:
        pk, _, ns = manage.create_tenant(name=name, version=VERSION, replicas=2)
        wait_for("the tenant Ready with 2 replicas", lambda: settled(kube, manage, pk, ns, name),
                 timeout=SETTLE_SECONDS)
        old_kubeconfig = tmp_path / "before.kubeconfig"
        manage.shell(ISSUE_KUBECONFIG.format(pk=pk, path=str(old_kubeconfig)))
        old_ca = secrets.secret_text(kube.get("Secret", f"{name}-pki", ns))[pki.CA_CERT]

        apps, core = client.AppsV1Api(kube.api_client), client.CoreV1Api(kube.api_client)
        edits = {
            "Deployment image": ("Deployment", name, lambda: apps.patch_namespaced_deployment(
                name, ns, {"spec": {"template": {"spec": {"containers": [
                    # A local image (pull policy IfNotPresent): nothing is fetched from off the machine.
                    {"name": "kube-apiserver", "image": f"registry.k8s.io/kube-apiserver:{OTHER_VERSION}"}]}}}},
                field_manager="drift-test")),
            "Service label": ("Service", name, lambda: core.patch_namespaced_service(
                name, ns, {"metadata": {"labels": {"app.kubernetes.io/instance": "someone-else"}}},
                field_manager="drift-test")),
            "PDB spec": ("PodDisruptionBudget", name, lambda: client.PolicyV1Api(kube.api_client)
                         .patch_namespaced_pod_disruption_budget(name, ns, {"spec": {"maxUnavailable": 2}},
                                                                 field_manager="drift-test")),
        }
        deletions = [("PodDisruptionBudget", name), ("Deployment", name), ("Service", name),
                     ("Secret", f"{name}-kubeconfigs"), ("Secret", f"{name}-datastore"), ("Secret", f"{name}-pki"),
                     ("ConfigMap", f"{name}-owner")]  # the anchor last: everything is owned by it (cascade)
        times: dict[str, float] = {}
        for label, (kind, obj_name, edit) in edits.items():
            want = FINGERPRINT[kind](kube.get(kind, obj_name, ns))
            started = time.monotonic()
            edit()
            assert FINGERPRINT[kind](kube.get(kind, obj_name, ns)) != want  # the edit landed
            times[f"edit {label}"] = repaired_after(kube, kind, obj_name, ns, want, started)
            wait_for(f"settled after the {label} edit", lambda: settled(kube, manage, pk, ns, name),
                     timeout=SETTLE_SECONDS)
        for kind, obj_name in deletions:
            before = kube.get(kind, obj_name, ns)
            want = FINGERPRINT[kind](before)
            started = time.monotonic()
            assert kube.delete(kind, obj_name, ns)
            times[f"delete {kind} {obj_name.removeprefix(name)}"] = repaired_after(
                kube, kind, obj_name, ns, want, started, gone_uid=before["metadata"]["uid"])
            wait_for(f"settled after deleting {kind} {obj_name}", lambda: settled(kube, manage, pk, ns, name),
                     timeout=SETTLE_SECONDS)

        print("\nrepair times (delete/edit -> back with the same spec):")
        for label, seconds in times.items():
            print(f"  {label:<40} {seconds:5.2f} s")
        slow = {label: round(s, 2) for label, s in times.items() if s > REPAIR_SECONDS}
        assert not slow, f"repaired later than {REPAIR_SECONDS}s: {slow}"

        # One consistent CA after losing the pki Secret: serving certificate, component kubeconfigs,
        # cluster-info inside the tenant, and a new download all use the new one.
        ca = secrets.secret_text(kube.get("Secret", f"{name}-pki", ns))[pki.CA_CERT]
        assert ca != old_ca
        endpoint = manage.row(pk)["endpoint"]
        host, port = endpoint.removeprefix("https://").rsplit(":", 1)
        assert pki.signed_by(ssl.get_server_certificate((host, int(port))), ca)
        for text in secrets.secret_text(kube.get("Secret", f"{name}-kubeconfigs", ns)).values():
            cluster = yaml.safe_load(text)["clusters"][0]["cluster"]
            assert base64.b64decode(cluster["certificate-authority-data"]).decode() == ca
            assert pki.signed_by(client_certificate_of(text)[0], ca)
        new_kubeconfig = tmp_path / "after.kubeconfig"
        manage.shell(ISSUE_KUBECONFIG.format(pk=pk, path=str(new_kubeconfig)))
        api = config.new_client_from_config(config_file=str(new_kubeconfig))
        assert client.VersionApi(api).get_code().git_version == VERSION
        info = client.CoreV1Api(api).read_namespaced_config_map("cluster-info", "kube-public").data["kubeconfig"]
        assert base64.b64decode(yaml.safe_load(info)["clusters"][0]["cluster"]["certificate-authority-data"]) \
            .decode() == ca
        # The old download, pointed at today's endpoint (the re-created Service has another NodePort):
        # signed by the lost CA, so TLS verification fails.
        stale_config = yaml.safe_load(old_kubeconfig.read_text())
        stale_config["clusters"][0]["cluster"]["server"] = endpoint
        stale = client.Configuration()
        config.load_kube_config_from_dict(stale_config, client_configuration=stale)
        stale.retries = False
        with pytest.raises(ApiException, match="CERTIFICATE_VERIFY_FAILED"):
            client.VersionApi(client.ApiClient(stale)).get_code(_request_timeout=10)
    finally:
        if pk is not None:
            manage.delete_tenant(pk)
            wait_for("the row to go", lambda: manage.row(pk) is None, timeout=SETTLE_SECONDS)
        controller.terminate()
        assert controller.wait(timeout=30) == 0
