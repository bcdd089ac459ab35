"""50 clients at once create, PATCH and delete clusters through the served API, with the controller
running, on the embedded default (SQLite) and on PostgreSQL: no 5xx, and a consistent end state.

Every client creates a cluster, reads it back and the list, PATCHes it, and (all but KEEP of them)
deletes it at once; the controller writes status meanwhile. The deleted clusters need not become
Ready first (most are deleted before their pods start): afterwards each is gone from the database,
the management cluster and the etcd datastore. The kept ones become Ready with their PATCH
applied, then are deleted too and must go as completely. Bounded: KEEP apiservers at a time.
"""

import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from localcluster import datastore_servers, versions
from tenants.services.kube import Kube
from tenants.services.manifests.labels import MANAGED_SELECTOR, TENANT_UID_KEY
from tests.api import served_api
from tests.waiting import wait_for

pytestmark = [pytest.mark.cluster]

CLIENTS = 50
KEEP = 2  # clusters that stay and must become Ready (each runs an apiserver on this 2-core machine)
SETTLE_SECONDS = 300


@pytest.fixture(params=served_api.DATABASES)
def served(request, tmp_path, management_cluster, namespace):
    datastore_servers.start("etcd")  # reused if up; left running (scripts/test stops the servers)
    with served_api.app_database(request.param, tmp_path) as url:
        app = served_api.serve(url, workdir=tmp_path, kubeconfig=management_cluster.kubeconfig,
                               lease_namespace=namespace, controller=True)
        try:
            yield request.param, app
        finally:
            app.delete_all()
            assert app.stop() == 0, app.log_path.read_text(errors="replace")[-4000:]


class Client:
    """One person's session: every answer is kept as (method, status, seconds)."""

    def __init__(self, app: served_api.ServedAPI):
        self.app, self.http, self.answers = app, app.session(), []

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        started = time.monotonic()
        response = self.http.request(method, f"{self.app.url}{path}", timeout=120, **kwargs)
        self.answers.append((method, response.status_code, time.monotonic() - started))
        return response


def one_client(app: served_api.ServedAPI, name: str, keep: bool) -> tuple[Client, dict | None]:
    """Create, read, list, PATCH and (unless `keep`) delete; stops at the first unexpected answer."""
    c = Client(app)
    created = c.call("POST", "/api/clusters/", json={
        "organization": app.org, "name": name, "kubernetes_version": versions.TENANT_VERSIONS[-1]})
    if created.status_code != 201:
        return c, None
    cluster = created.json()
    pk = cluster["id"]
    steps = [("GET", f"/api/clusters/{pk}/", {}, 200), ("GET", "/api/clusters/", {}, 200),
             ("PATCH", f"/api/clusters/{pk}/", {"json": {"cert_sans": [f"{name}.load.test"]}}, 200)]
    if not keep:
        steps.append(("DELETE", f"/api/clusters/{pk}/", {}, 202))
    for method, path, kwargs, expected in steps:
        if c.call(method, path, **kwargs).status_code != expected:
            break
    return c, cluster


def our_namespaces(kube: Kube, uids: set[str]) -> set[str]:
    return {ns["metadata"]["name"] for ns in kube.list("Namespace", label_selector=MANAGED_SELECTOR)
            if (ns["metadata"].get("labels") or {}).get(TENANT_UID_KEY) in uids}


def kept_are_ready(app: served_api.ServedAPI, kept: dict[int, str]) -> bool:
    rows = {r["pk"]: r for r in app.state()["rows"]}
    return all(pk in rows and rows[pk]["phase"] == "Ready" and rows[pk]["observed_generation"] == rows[pk]["generation"]
               for pk in kept)


def test_fifty_concurrent_creates_patches_and_deletes_answer_no_5xx_and_leave_nothing_half_made(
        served, management_cluster):
    database, app = served
    kube = Kube(management_cluster.api_client())
    run = uuid.uuid4().hex[:5]
    names = [f"ld{run}-{i}" for i in range(CLIENTS)]

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(lambda i: one_client(app, names[i], keep=i < KEEP), range(CLIENTS)))
    burst = time.monotonic() - started
    answers = [a for client, _ in results for a in client.answers]
    statuses = Counter(status for _, status, _ in answers)
    latencies = sorted(seconds for _, _, seconds in answers)
    print(f"\n[{database}] {len(answers)} requests from {CLIENTS} concurrent clients in {burst:.1f}s "
          f"({len(answers) / burst:.0f}/s; p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, "
          f"max {latencies[-1] * 1000:.0f} ms): {dict(statuses)}")
    assert not [s for s in statuses if s >= 500]
    by_method = Counter((method, status) for method, status, _ in answers)
    assert by_method == {("POST", 201): CLIENTS, ("GET", 200): 2 * CLIENTS, ("PATCH", 200): CLIENTS,
                         ("DELETE", 202): CLIENTS - KEEP}

    clusters = {c["id"]: c for _, c in results}
    uids = {c["uid"] for c in clusters.values()}
    kept = {c["id"]: c["name"] for c in clusters.values() if c["name"] in names[:KEEP]}
    gone = set(clusters) - set(kept)

    wait_for("deleted clusters gone from the database", lambda: not gone & {r["pk"] for r in app.state()["rows"]},
             SETTLE_SECONDS)
    wait_for("kept clusters Ready", lambda: kept_are_ready(app, kept), SETTLE_SECONDS)
    settled = time.monotonic() - started
    gone_uids = {clusters[pk]["uid"] for pk in gone}
    wait_for("deleted clusters' namespaces gone", lambda: not our_namespaces(kube, gone_uids), 120)
    state = app.state()
    rows = {r["pk"]: r for r in state["rows"]}
    assert set(rows) == set(kept)
    for pk, name in kept.items():
        assert rows[pk]["cert_sans"] == [f"{name}.load.test"]  # the PATCH held through the controller's writes
    assert our_namespaces(kube, uids) == {f"kui-{pk}-{name}" for pk, name in kept.items()}
    assert state["orphans"] == 0
    assert state["audit"]["cluster.create"] == CLIENTS
    assert state["audit"]["cluster.update"] == CLIENTS
    assert state["audit"]["cluster.delete"] == state["audit"]["cluster.deleted"] == len(gone)
    assert not {f"kui-{uid}" for uid in gone_uids} & set(state["etcd_users"])
    print(f"[{database}] settled (deleted gone, {KEEP} kept Ready) {settled:.1f}s after the burst began")

    http = app.session()
    for pk in kept:
        assert http.delete(f"{app.url}/api/clusters/{pk}/", timeout=30).status_code == 202
    wait_for("kept clusters deleted", lambda: not app.state()["rows"], 180)
    wait_for("every namespace gone", lambda: not our_namespaces(kube, uids), 120)
    state = app.state()
    assert state["audit"]["cluster.deleted"] == CLIENTS
    assert not {f"kui-{uid}" for uid in uids} & set(state["etcd_users"])
    print(f"[{database}] all {CLIENTS} gone after {time.monotonic() - started:.1f}s")
    assert "database is locked" not in app.log_path.read_text(errors="replace")  # nor in the controller
