"""Live status in Chromium against the real cluster: no reload, the pods table follows the cluster.

The server is the embedded default over ASGI (daphne's runserver, in-memory channel layer,
watchers in the server process) on its own SQLite file; the cluster's workload is a stand-in
labelled like a tenant's (tests/live/workload.py).
"""

import random
import subprocess
import time
import uuid

import pytest

from localcluster import paths, versions
from tests.live import served_app, workload

pytestmark = [pytest.mark.cluster, pytest.mark.browser]

KUBECTL = paths.bin_dir("kubernetes", versions.MANAGEMENT) / "kubectl"
REPLICAS = 2

# Records every state each pod row showed, right after each WebSocket message is swapped in.
RECORD_ROWS = """
window.__podStates = {};
window.__messages = 0;
document.addEventListener("htmx:wsAfterMessage", function () {
  window.__messages += 1;
  document.querySelectorAll("#pods-table tr[data-pod]").forEach(function (tr) {
    var states = window.__podStates[tr.dataset.pod] = window.__podStates[tr.dataset.pod] || [];
    var state = tr.dataset.phase + (tr.dataset.ready === "true" ? "+Ready" : "");
    if (states[states.length - 1] !== state) states.push(state);
  });
});
"""


@pytest.fixture(scope="module")
def live_app(tmp_path_factory, management_cluster):
    workdir = tmp_path_factory.mktemp("live-app")
    pk, name = random.randint(900_000, 999_999), f"live-{uuid.uuid4().hex[:6]}"
    env = served_app.app_env(workdir, KUBECONFIG=str(management_cluster.kubeconfig))
    seeded = served_app.prepare_database(env, tenant_pk=pk, name=name)
    api = management_cluster.api_client()
    workload.create(api, tenant_pk=pk, namespace=seeded["namespace"], name=name, replicas=REPLICAS)
    app = None
    try:
        workload.wait_ready(api, seeded["namespace"], REPLICAS)
        app = served_app.serve(env, workdir=workdir)
        yield app, seeded, api
    finally:
        if app:
            app.stop()
        workload.delete(api, seeded["namespace"])


@pytest.fixture
def cluster_page(chromium, live_app):
    app, seeded, _ = live_app
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(30_000)
    context.add_cookies([{"name": "sessionid", "value": seeded["session"], "url": app.url}])
    page = context.new_page()
    page.add_init_script(RECORD_ROWS)
    page.goto(f"{app.url}/clusters/{seeded['tenant_pk']}/")
    page.wait_for_function(f"document.querySelectorAll('#pods-table tr[data-ready=true]').length >= {REPLICAS}")
    page.evaluate("window.__sameDocument = true")
    yield page
    context.close()


def kubectl(kubeconfig, *args: str) -> str:
    return subprocess.run([str(KUBECTL), f"--kubeconfig={kubeconfig}", *args], check=True, capture_output=True,
                          text=True, timeout=60).stdout


def test_deleted_apiserver_pod_leaves_the_table_and_its_replacement_comes_up_live(cluster_page, live_app,
                                                                                  management_cluster):
    page = cluster_page
    _, seeded, _ = live_app
    before = page.eval_on_selector_all("#pods-table tr[data-pod]", "rows => rows.map(r => r.dataset.pod)")
    assert len(before) == REPLICAS
    assert page.inner_text("#live-status").startswith("● Live")
    victim = before[0]

    kubectl(management_cluster.kubeconfig, "-n", seeded["namespace"], "delete", "pod", victim, "--wait=false")

    # The victim leaves the table and a new pod reaches Ready, all without a reload.
    page.wait_for_function(
        """([victim, replicas]) => {
            const rows = [...document.querySelectorAll('#pods-table tr[data-pod]')];
            return !rows.some(r => r.dataset.pod === victim)
                && rows.filter(r => r.dataset.ready === 'true').length === replicas;
        }""", arg=[victim, REPLICAS], timeout=90_000,
    )
    after = page.eval_on_selector_all("#pods-table tr[data-pod]", "rows => rows.map(r => r.dataset.pod)")
    (replacement,) = set(after) - set(before)
    states = page.evaluate("window.__podStates")
    assert states[replacement][:3] == ["Pending", "Running", "Running+Ready"], states[replacement]
    assert "Terminating" in states[victim] or states[victim][-1] == "Running+Ready"
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    # The events table followed as well: the kubelet's Killing event for the victim.
    page.wait_for_function(f"document.querySelector('#events-table') && "
                           f"document.querySelector('#events-table').innerText.includes('{victim}')")


def test_disconnect_shows_stale_and_reconnect_resyncs_with_a_fresh_snapshot(cluster_page, live_app,
                                                                            management_cluster):
    page = cluster_page
    app, seeded, api = live_app
    app.stop()
    page.wait_for_function("document.getElementById('cluster-detail').dataset.stale === 'true'")
    assert "Disconnected" in page.inner_text("#live-status")

    # While the page is cut off, the cluster changes.
    kubectl(management_cluster.kubeconfig, "-n", seeded["namespace"], "scale", "deployment",
            seeded["namespace"].split("-", 2)[2], f"--replicas={REPLICAS + 1}")
    workload.wait_ready(api, seeded["namespace"], REPLICAS + 1)

    restarted = served_app.serve(app.env, workdir=app.log_path.parent, port=app.port)
    app.process = restarted.process  # the module fixture stops whichever server is current
    page.wait_for_function(
        f"document.querySelectorAll('#pods-table tr[data-ready=true]').length === {REPLICAS + 1}", timeout=60_000)
    page.wait_for_function("document.getElementById('cluster-detail').dataset.stale === undefined")
    assert page.inner_text("#live-status").startswith("● Live")
    assert page.evaluate("window.__sameDocument") is True


def open_log_follows(kubeconfig) -> int:
    """Pod log streams the management API server is serving now (log follows are long-running requests)."""
    metrics = kubectl(kubeconfig, "get", "--raw", "/metrics")
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in metrics.splitlines()
               if line.startswith("apiserver_longrunning_requests{") and 'resource="pods"' in line
               and 'subresource="log"' in line)


def test_log_panel_follows_a_container_only_while_open(cluster_page, management_cluster):
    page = cluster_page
    before = open_log_follows(management_cluster.kubeconfig)
    pod = page.eval_on_selector("#pods-table tr[data-ready=true]", "row => row.dataset.pod")
    page.click(f"#pods-table tr[data-pod='{pod}'] form.log-open[data-container='{workload.CONTAINER}'] button")

    page.wait_for_function("document.querySelector('#log-lines') && "
                           "Number(document.querySelector('#log-lines').dataset.lines) > 0")
    assert '"msg"' in page.inner_text("#log-lines")  # etcd's JSON log lines, as the container wrote them
    assert f"Following {workload.CONTAINER} of {pod}" in page.inner_text("#log-panel")
    assert open_log_follows(management_cluster.kubeconfig) == before + 1

    page.click("#log-close button[type=submit]")
    page.wait_for_selector("#log-lines", state="detached")
    deadline = time.monotonic() + 15
    while open_log_follows(management_cluster.kubeconfig) != before:
        assert time.monotonic() < deadline, "the log stream stayed open after the panel closed"
        time.sleep(0.5)
