"""The embedded default end to end: `manage.py serve` answers at once, registers the local etcd
as the default datastore, runs the controller in-process, and a cluster created through the
HTTP API becomes Ready, hands out a working kubeconfig, and is deleted.
"""

import signal
import time
import uuid

import pytest
import requests
from kubernetes import client, config

from localcluster import datastore_servers, versions
from tenants.services.embedded import SQL_SERVERS
from tenants.services.leader import LEASE_NAME
from tests.tenants.integration.controller_process import ManagePy
from tests.waiting import free_port, wait_for

pytestmark = [pytest.mark.cluster]

SETUP_USER = """
from rest_framework.authtoken.models import Token
from tests.factories import make_org, make_user
org = make_org()
user = make_user(role="owner", org=org, username="newcomer")
print(org.slug, Token.objects.create(user=user).key)
"""


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code < 500
    except requests.ConnectionError:
        return False


def test_serve_runs_the_controller_and_a_cluster_made_over_http_works(tmp_path, namespace, local_etcd_server,
                                                                      tenant_kube):
    manage = ManagePy(tmp_path, lease_namespace=namespace)
    manage.env.pop("KUBECONFIG", None)
    manage.env["KAMAJI_UI_CONTROLLER_IN_PROCESS"] = "true"
    already_up = {name for name in SQL_SERVERS if datastore_servers.pid_of(name)}
    manage.migrate()
    slug, token = manage.shell(SETUP_USER).split()[-2:]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    server = manage.popen("serve", "--port", str(port), log=log)
    try:
        started = time.monotonic()
        wait_for("the dashboard", lambda: answers(f"{base}/api/schema/"), timeout=30)
        print(f"\ndashboard answered after {time.monotonic() - started:.1f}s")
        wait_for("the controller", lambda: "controller" in log.read_text() and "running" in log.read_text(), 120)
        assert "default: local-etcd" in log.read_text()

        api = requests.Session()
        api.headers["Authorization"] = f"Token {token}"
        name = f"web-{uuid.uuid4().hex[:6]}"
        created = api.post(f"{base}/api/clusters/", json={
            "organization": slug, "name": name, "kubernetes_version": versions.TENANT_VERSIONS[-1]})
        assert created.status_code == 201, created.text
        pk = created.json()["id"]
        detail = wait_for("Ready", lambda: (lambda r: r if r["phase"] == "Ready" else None)(
            api.get(f"{base}/api/clusters/{pk}/").json()), timeout=180)
        print(f"create → Ready over HTTP in {time.monotonic() - started:.1f}s")
        assert detail["observed_version"] == versions.TENANT_VERSIONS[-1]

        kubeconfig = api.get(f"{base}/api/clusters/{pk}/kubeconfig/")
        assert kubeconfig.status_code == 200
        path = tmp_path / "kubeconfig"
        path.write_bytes(kubeconfig.content)
        tenant_api = config.new_client_from_config(config_file=str(path))
        assert client.VersionApi(tenant_api).get_code().git_version == versions.TENANT_VERSIONS[-1]

        assert api.delete(f"{base}/api/clusters/{pk}/").status_code == 202
        wait_for("the cluster to go", lambda: api.get(f"{base}/api/clusters/{pk}/").status_code == 404, timeout=180)
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        for name in set(SQL_SERVERS) - already_up:  # serve starts them for newcomers; not ours to keep
            datastore_servers.stop(name)
    lease = tenant_kube.get("Lease", LEASE_NAME, namespace)
    assert not lease["spec"].get("holderIdentity")  # handed back on a clean stop
