"""What the pages say is true, in Chromium: one phase in every badge as it changes, the kubeconfig
download disabled with its reason until the cluster is Ready, the list gaining and losing rows that
others create and delete, and no horizontal overflow at 1366 px.

The server is the real app over ASGI (daphne's runserver) on its own SQLite file with channels-redis
on a redis-server of the tests' own (tests/live/conftest.py), so that changes made by another process
(`manage.py shell`, as the controller or another person would) reach the open pages. The controller is
off: the phases are written by the tests, the way the controller writes them.
"""

import json
import textwrap

import pytest

from tests.live import served_app

# The live fixtures, shared with tests/live/ (fixtures are visible by directory, so imported here).
from tests.live.conftest import redis_server  # noqa: F401

pytestmark = pytest.mark.browser

SEED = """
import json
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY
from tenants.models import Membership, Organization, TenantControlPlane
from tests.factories import make_datastore

def session_for(user):
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key

User = get_user_model()
acme = Organization.objects.create(name="Acme", slug="acme")
Organization.objects.create(name="Globex", slug="globex")
ada = User.objects.create_user(username="ada")
Membership.objects.create(user=ada, organization=acme, role="member")
bob = User.objects.create_user(username="bob")
Membership.objects.create(user=bob, organization=acme, role="member")
staff = User.objects.create_user(username="operator", is_staff=True)
alpha = TenantControlPlane.objects.create(organization=acme, name="alpha")
print(json.dumps({"ada": session_for(ada), "staff": session_for(staff), "alpha": alpha.pk}))
"""


@pytest.fixture(scope="module")
def ui_app(tmp_path_factory, redis_server):  # noqa: F811
    workdir = tmp_path_factory.mktemp("ui-app")
    env = served_app.app_env(workdir, REDIS_URL=redis_server, KAMAJI_UI_CONTROLLER_IN_PROCESS="false",
                             KAMAJI_UI_LOCALCLUSTER="false", KAMAJI_UI_LIVE_WATCHERS_IN_SERVER="false")
    env.pop("KUBECONFIG", None)  # no management cluster: pods and events come from the tests (below)
    served_app.run_manage(env, "migrate", "--noinput", timeout=300)
    seeded = json.loads(served_app.run_manage(env, "shell", "-c", SEED).strip().splitlines()[-1])
    app = served_app.serve(env, workdir=workdir)
    try:
        yield app, seeded
    finally:
        app.stop()


def as_another_process(app, code: str) -> None:
    """Run `code` in a `manage.py shell` of the same installation, then wait until what it changed
    has been published (through Redis) before the process ends."""
    script = "from tenants.live.publish import publisher\n" + textwrap.dedent(code) + "\npublisher.wait_idle()\n"
    app.manage("shell", "-c", script)


def open_page(chromium, app, session: str, path: str, *, width: int = 1280, live: bool = True):
    context = chromium.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(30_000)
    context.add_cookies([{"name": "sessionid", "value": session, "url": app.url}])
    page = context.new_page()
    page.add_init_script(RECORD_BADGES)
    page.goto(f"{app.url}{path}")
    if live:
        page.wait_for_function("window.__messages > 0")  # the snapshot is in
    page.evaluate("window.__sameDocument = true")
    return context, page


# After every WebSocket message: the texts of all phase badges on the page, per cluster.
RECORD_BADGES = """
window.__messages = 0;
window.__badges = [];
document.addEventListener("htmx:wsAfterMessage", function () {
  window.__messages += 1;
  var byCluster = {};
  document.querySelectorAll("[data-phase-of]").forEach(function (b) {
    (byCluster[b.dataset.phaseOf] = byCluster[b.dataset.phaseOf] || []).push(b.innerText);
  });
  window.__badges.push(byCluster);
});
"""

SET_STATUS = """
from tenants.models import TenantControlPlane
t = TenantControlPlane.objects.get(pk={pk})
t.phase, t.endpoint = {phase!r}, {endpoint!r}
t.set_condition("Ready", {ready!r}, {reason!r}, {message!r})
t.save()
"""


def badges_of(page, pk: int) -> list[str]:
    return page.eval_on_selector_all(f"[data-phase-of='{pk}']", "els => els.map(e => e.innerText)")


def test_one_phase_in_every_badge_and_the_download_opens_when_ready(chromium, ui_app):
    app, seeded = ui_app
    pk = seeded["alpha"]
    context, page = open_page(chromium, app, seeded["ada"], f"/clusters/{pk}/")
    try:
        assert badges_of(page, pk) == ["Pending", "Pending"]  # the header and the status card
        download = page.locator("#kubeconfig-download")
        assert download.is_disabled()
        assert "Available once the cluster is Ready" in page.inner_text("#kubeconfig-reason")

        as_another_process(app, SET_STATUS.format(pk=pk, phase="Provisioning", endpoint="10.212.0.1:31443",
                                                  ready=False, reason="Unreachable",
                                                  message="10.212.0.1:31443: ConnectError"))
        page.wait_for_function(f"[...document.querySelectorAll('[data-phase-of=\"{pk}\"]')]"
                               ".every(b => b.innerText === 'Provisioning')")
        # An endpoint is assigned but nothing answers there yet: still disabled, and it says why.
        assert download.is_disabled()
        assert "ConnectError" in page.inner_text("#kubeconfig-reason")

        as_another_process(app, SET_STATUS.format(pk=pk, phase="Ready", endpoint="10.212.0.1:31443", ready=True,
                                                  reason="Serving", message="10.212.0.1:31443 answers /readyz"))
        page.wait_for_function("document.querySelector('a#kubeconfig-download') !== null")
        assert badges_of(page, pk) == ["Ready", "Ready"]
        assert page.get_attribute("a#kubeconfig-download", "href") == f"/clusters/{pk}/kubeconfig/"
        assert page.locator("#kubeconfig-reason").count() == 0

        # After every message, every badge of the cluster said the same thing.
        recorded = [b[str(pk)] for b in page.evaluate("window.__badges") if str(pk) in b]
        assert all(len(set(texts)) == 1 for texts in recorded), recorded
        assert {texts[0] for texts in recorded} >= {"Provisioning", "Ready"}
        assert page.evaluate("window.__sameDocument") is True  # no reload
    finally:
        context.close()


def test_the_list_gains_a_colleagues_cluster_and_loses_a_deleted_one_live(chromium, ui_app):
    app, seeded = ui_app
    context, page = open_page(chromium, app, seeded["ada"], "/clusters/")
    try:
        assert page.locator("tr[data-cluster='bobs']").count() == 0
        as_another_process(app, """
            from django.contrib.auth import get_user_model
            from tenants.models import Organization
            from tenants.services import lifecycle
            User = get_user_model()
            staff = User.objects.get(username="operator")
            lifecycle.tenant_create(organization=Organization.objects.get(slug="globex"), by=staff, name="theirs")
            lifecycle.tenant_create(organization=Organization.objects.get(slug="acme"),
                                    by=User.objects.get(username="bob"), name="bobs")
        """)
        page.wait_for_selector("tr[data-cluster='bobs']")
        assert page.locator("tr[data-cluster='theirs']").count() == 0  # another organisation's
        assert page.inner_text("tr[data-cluster='bobs'] [data-phase-of]") == "Pending"
        # Its age ticks (static/js/ages.js, every 5 s) without any message from the server.
        age = page.inner_text("tr[data-cluster='bobs'] time[data-age]")
        assert age.endswith("s"), age
        page.wait_for_function("(age) => document.querySelector(\"tr[data-cluster='bobs'] time[data-age]\").innerText"
                               " !== age", arg=age, timeout=15_000)

        # The controller's last step of a deletion removes the row.
        as_another_process(app, """
            from tenants.models import TenantControlPlane
            TenantControlPlane.objects.get(name="bobs").delete()
        """)
        page.wait_for_selector("tr[data-cluster='bobs']", state="detached")
        assert page.locator("tr[data-cluster='alpha']").count() == 1
        assert page.evaluate("window.__sameDocument") is True
    finally:
        context.close()


LONG_CONTENT = """
from django.utils import timezone
from tenants.models import Organization, TenantControlPlane, Upgrade
from tests.factories import make_datastore

acme = Organization.objects.get(slug="acme")
name = "a-rather-long-cluster-name-for-the-layout"
t = TenantControlPlane.objects.create(
    organization=acme, name=name[:40], phase="NotReady", endpoint="10.212.0.1:31443",
    cert_sans=[f"api-{i}.a-long-subdomain.of.an.example.test" for i in range(6)])
t.set_condition("Ready", False, "BootstrapFailed",
                "403 Forbidden: clusterrolebindings.rbac.authorization.k8s.io is forbidden: User "
                "system:kube-controller-manager cannot create resource clusterrolebindings in API group "
                "rbac.authorization.k8s.io at the cluster scope" + "x" * 80)
t.save()
Upgrade.objects.create(tenant=t, from_version="v1.34.4", to_version="v1.35.4", state="Failed",
                       steps=[{"at": "2026-01-01T00:00:00+00:00", "message": "y" * 200}])
for i in range(25):
    TenantControlPlane.objects.create(organization=acme, name=f"fleet-member-with-a-long-name-{i:02d}",
                                      endpoint=f"https://10.212.0.1:{31000 + i}", phase="Ready")
make_datastore(name="etcd-far-away", endpoints=["https://127.0.0.1:1"], healthy=False,
               health_message="etcd unreachable at https://127.0.0.1:1: HTTPSConnectionPool(host='127.0.0.1', "
                              "port=1): Max retries exceeded with url: /v3/auth/authenticate (Caused by "
                              "NewConnectionError: [Errno 111] Connection refused)",
               health_checked_at=timezone.now())
print(t.pk)
"""

# Pods and events as the watch delivers them, published by this process (the page must be open by then).
PUBLISH_PODS_AND_EVENTS = """
from datetime import UTC, datetime
from tenants.live.store import store
from tenants.models import TenantControlPlane

t = TenantControlPlane.objects.get(pk={pk})
name = t.name
now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
pod_name = f"{name[:40]}-kube-apiserver-7d9f8c6b5d-x2x9z"
labels = {"app.kubernetes.io/managed-by": "kamaji-ui", "kamaji-ui/tenant": str(t.pk)}
for i in range(2):
    store.apply("pods", "ADDED", {
        "metadata": {"name": f"{pod_name}{i}", "namespace": t.namespace, "labels": labels, "resourceVersion": "1",
                     "creationTimestamp": now},
        "spec": {"nodeName": "kamaji-ui-local-node", "containers": [{"name": n} for n in (
            "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kine")]},
        "status": {"phase": "Running", "containerStatuses": []},
    })
    store.apply("events", "ADDED", {
        "metadata": {"name": f"ev-{i}", "namespace": t.namespace, "creationTimestamp": now},
        "involvedObject": {"kind": "Pod", "name": f"{pod_name}{i}"}, "type": "Warning", "reason": "Failed",
        "lastTimestamp": now, "count": 3,
        "message": 'Failed to pull image "registry.k8s.io/kube-apiserver:v1.35.4": rpc error: code = NotFound '
                   'desc = failed to pull and unpack image "registry.k8s.io/kube-apiserver:v1.35.4": failed to '
                   'resolve reference "registry.k8s.io/kube-apiserver:v1.35.4": registry.k8s.io/kube-apiserver:'
                   'v1.35.4:not-found-in-the-local-image-store-and-pulling-is-off',
    })
publisher.kind_changed(t.pk, "pods", 0.0)
publisher.kind_changed(t.pk, "events", 0.0)
"""

NO_HORIZONTAL_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"


def test_no_horizontal_overflow_at_1366_px_with_long_content(chromium, ui_app):
    app, seeded = ui_app
    pk = int(app.manage("shell", "-c", LONG_CONTENT).strip().splitlines()[-1])
    # The pods and events reach an open page from the shell's publisher: open the page first, then publish.
    context, page = open_page(chromium, app, seeded["ada"], f"/clusters/{pk}/", width=1366)
    try:
        as_another_process(app, PUBLISH_PODS_AND_EVENTS.replace("{pk}", str(pk)))
        page.wait_for_selector("#events-table tr[data-reason='Failed']")
        page.wait_for_selector("#pods-table tr[data-pod]")
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert page.evaluate(NO_HORIZONTAL_OVERFLOW), widths
    finally:
        context.close()

    for session, path, live in ((seeded["ada"], "/clusters/", True), (seeded["staff"], "/operator/", False)):
        context, page = open_page(chromium, app, session, path, width=1366, live=live)
        try:
            assert page.locator("table tbody tr").count() > 10  # real rows, not an empty page
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert page.evaluate(NO_HORIZONTAL_OVERFLOW), (path, widths)
        finally:
            context.close()
