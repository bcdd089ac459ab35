"""The real thing: `manage.py serve` (embedded default: controller and watchers in the server),
a tenant control plane created through the product, watched in Chromium while it comes up and
while one of its kube-apiserver pods is deleted with kubectl.
"""

import re
import signal
import subprocess
import time
import uuid

import pytest

from localcluster import datastore_servers, paths, versions
from tests.live.served_app import free_port
from tests.tenants.integration.controller_process import ManagePy

pytestmark = [pytest.mark.cluster, pytest.mark.browser]

KUBECTL = paths.bin_dir("kubernetes", versions.MANAGEMENT) / "kubectl"
REPLICAS = 2

SETUP = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from tenants.services import lifecycle
from tests.factories import make_org, make_user
org = make_org()
owner = make_user(role="owner", org=org, username="owner")
tenant = lifecycle.tenant_create(organization=org, by=owner, name={name!r}, replicas={replicas},
                                 kubernetes_version={version!r})
session = SessionStore()
session[SESSION_KEY] = str(owner.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = owner.get_session_auth_hash()
session.create()
print(tenant.pk, tenant.namespace, session.session_key)
"""

DELETE = """
from django.contrib.auth.models import User
from tenants.models import TenantControlPlane
from tenants.services import lifecycle
lifecycle.tenant_delete(tenant=TenantControlPlane.objects.get(pk={pk}), by=User.objects.get(username="owner"))
"""

RECORD_ROWS = """
window.__podStates = {};
window.__phases = [];
document.addEventListener("htmx:wsAfterMessage", function () {
  var badge = document.querySelector("[data-phase-of]");
  if (badge && window.__phases[window.__phases.length - 1] !== badge.innerText) window.__phases.push(badge.innerText);
  document.querySelectorAll("#pods-table tr[data-pod]").forEach(function (tr) {
    var states = window.__podStates[tr.dataset.pod] = window.__podStates[tr.dataset.pod] || [];
    var state = tr.dataset.phase + (tr.dataset.ready === "true" ? "+Ready" : "");
    if (states[states.length - 1] !== state) states.push(state);
  });
});
"""


@pytest.fixture
def local_etcd():
    was_running = datastore_servers.pid_of("etcd") is not None
    yield
    if not was_running:
        datastore_servers.stop("etcd")


def test_a_real_tenant_comes_up_and_replaces_a_deleted_apiserver_pod_live(tmp_path, namespace, chromium, local_etcd,
                                                                          management_cluster):
    manage = ManagePy(tmp_path, lease_namespace=namespace)
    manage.env.pop("KUBECONFIG", None)
    manage.env["KAMAJI_UI_CONTROLLER_IN_PROCESS"] = "true"
    manage.migrate()
    name = f"live-{uuid.uuid4().hex[:6]}"
    pk, tenant_namespace, session = manage.shell(
        SETUP.format(name=name, replicas=REPLICAS, version=versions.TENANT_VERSIONS[-1])).split()[-3:]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = manage.popen("serve", "--port", str(port), log=tmp_path / "serve.log")
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    try:
        context.set_default_timeout(30_000)
        context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        # The cluster list, open in its own tab: its phase badge follows too.
        listing = context.new_page()
        deadline = time.monotonic() + 30
        while True:
            try:
                listing.goto(f"{base}/clusters/")
                break
            except Exception:
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.5)
        listing.evaluate("window.__sameDocument = true")
        listed_first = listing.inner_text(f"[data-phase-of='{pk}']")
        page = context.new_page()
        page.add_init_script(RECORD_ROWS)
        page.goto(f"{base}/clusters/{pk}/")
        page.evaluate("window.__sameDocument = true")

        # The cluster comes up while the page watches: badge and pods follow, no reload.
        page.wait_for_function(f"document.querySelector('[data-phase-of=\"{pk}\"]').innerText === 'Ready'",
                               timeout=240_000)
        page.wait_for_function(
            f"document.querySelectorAll('#pods-table tr[data-ready=true]').length === {REPLICAS}", timeout=120_000)
        before = page.eval_on_selector_all("#pods-table tr[data-pod]", "rows => rows.map(r => r.dataset.pod)")
        victim = before[0]

        subprocess.run([str(KUBECTL), f"--kubeconfig={management_cluster.kubeconfig}", "-n", tenant_namespace,
                        "delete", "pod", victim, "--wait=false"], check=True, capture_output=True, timeout=60)
        page.wait_for_function(
            """([victim, replicas]) => {
                const rows = [...document.querySelectorAll('#pods-table tr[data-pod]')];
                return !rows.some(r => r.dataset.pod === victim)
                    && rows.filter(r => r.dataset.ready === 'true').length === replicas;
            }""", arg=[victim, REPLICAS], timeout=180_000,
        )
        after = page.eval_on_selector_all("#pods-table tr[data-pod]", "rows => rows.map(r => r.dataset.pod)")
        (replacement,) = set(after) - set(before)
        states = page.evaluate("window.__podStates")
        phases = page.evaluate("window.__phases")
        print(f"\nphase badge: {phases}\nreplacement {replacement}: {states[replacement]}\nvictim: {states[victim]}")
        assert states[replacement][0] == "Pending" and states[replacement][-1] == "Running+Ready"
        assert states[replacement].index("Pending") < states[replacement].index("Running+Ready")
        assert "Running" in states[replacement], "the new pod was never seen Running before Ready"
        assert phases[-1] == "Ready" and len(phases) > 1  # seen changing, not only loaded Ready
        assert listed_first != "Ready" and listing.inner_text(f"[data-phase-of='{pk}']") == "Ready"
        assert listing.evaluate("window.__sameDocument") is True
        assert page.evaluate("window.__sameDocument") is True

        # The new apiserver's log, followed from its row's button.
        page.click(f"#pods-table tr[data-pod='{replacement}'] form.log-open[data-container='kube-apiserver'] button")
        page.wait_for_function("document.querySelector('#log-lines') && "
                               "Number(document.querySelector('#log-lines').dataset.lines) > 0")
        assert re.search(r"^[IWE]\d{4} ", page.inner_text("#log-lines"), re.M)  # klog lines of kube-apiserver
    finally:
        context.close()
        try:
            manage.shell(DELETE.format(pk=pk))
            deadline = time.monotonic() + 180
            while manage.row(int(pk)) is not None and time.monotonic() < deadline:
                time.sleep(1)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
