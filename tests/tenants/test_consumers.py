"""The cluster status WebSocket: who may connect, the snapshot, then live updates.

Runs over the real ASGI application (origin check, session auth, routing) with Channels'
WebsocketCommunicator, once on the in-memory layer and once on channels-redis with a real
redis-server (tests/live/conftest.py).
"""

import asyncio
import random
import re
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from kamaji_ui.asgi import application
from tenants import informers
from tenants.consumers import CLOSE_NOT_FOUND, CLOSE_UNAUTHENTICATED
from tenants.live.publish import publisher
from tenants.live.store import store
from tenants.models import Phase
from tests.factories import make_org, make_tenant, make_upgrade, make_user
from tests.live import workload

# The live fixtures, shared with tests/live/ (fixtures are visible by directory, so imported here).
from tests.live.conftest import channel_layer_kind, clean_live_state, redis_server  # noqa: F401

# Every test runs twice: in-memory layer, then channels-redis on a real redis-server.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clean_live_state", "channel_layer_kind"),
]

TIMEOUT = 10


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def communicator(path: str, cookie: bytes | None = None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if cookie:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, path, headers=headers)


async def close_code_of(comm: WebsocketCommunicator) -> int:
    connected, _ = await comm.connect(timeout=TIMEOUT)
    assert connected  # accepted, so that the close carries a code the page can explain
    message = await comm.receive_output(timeout=TIMEOUT)
    assert message["type"] == "websocket.close"
    return message["code"]


@pytest.fixture
def cluster():
    org = make_org()
    tenant = make_tenant(org=org, name="live")
    return tenant


def pod(tenant, name: str, *, phase: str, ready: bool) -> dict:
    return {
        "metadata": {"name": name, "namespace": tenant.namespace, "resourceVersion": "1",
                     "labels": {"app.kubernetes.io/managed-by": "kamaji-ui", "kamaji-ui/tenant": str(tenant.pk)},
                     "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"containers": [{"name": "kube-apiserver"}], "nodeName": "node-1"},
        "status": {"phase": phase, "containerStatuses": [{"name": "kube-apiserver", "ready": ready,
                                                          "restartCount": 0, "state": {"running": {}}}],
                   "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def test_refused_without_a_session(cluster):
    async def scenario():
        comm = communicator(f"/ws/clusters/{cluster.pk}/")
        assert await close_code_of(comm) == CLOSE_UNAUTHENTICATED
        await comm.disconnect()

    asyncio.run(scenario())


def test_refused_for_an_outsider(cluster):
    outsider = make_user(role="owner", org=make_org())
    cookie = session_cookie(outsider)

    async def scenario():
        comm = communicator(f"/ws/clusters/{cluster.pk}/", cookie)
        assert await close_code_of(comm) == CLOSE_NOT_FOUND
        await comm.disconnect()

    asyncio.run(scenario())


def test_refused_for_a_cluster_that_does_not_exist(cluster):
    staff = make_user(staff=True)
    cookie = session_cookie(staff)

    async def scenario():
        comm = communicator("/ws/clusters/999999/", cookie)
        assert await close_code_of(comm) == CLOSE_NOT_FOUND
        await comm.disconnect()

    asyncio.run(scenario())


def test_member_gets_a_snapshot_then_status_and_pod_updates(cluster):
    viewer = make_user(role="viewer", org=cluster.organization)
    cookie = session_cookie(viewer)

    def mark_ready():
        cluster.phase = Phase.READY
        cluster.set_condition("Ready", True, "ControlPlaneReady", "all replicas ready")
        cluster.endpoint = "10.212.0.1:31443"
        cluster.save()

    async def scenario():
        comm = communicator(f"/ws/clusters/{cluster.pk}/", cookie)
        connected, _ = await comm.connect(timeout=TIMEOUT)
        assert connected
        snapshot = await comm.receive_from(timeout=TIMEOUT)
        # Every live section of the page, each marked for an out-of-band swap by its id.
        for element_id in ("conditions", "endpoint", "pods", "events", "upgrades", "log-panel", "live-status"):
            assert re.search(rf'hx-swap-oob="true"[^>]*id="{element_id}"|id="{element_id}"[^>]*hx-swap-oob',
                             snapshot), element_id
        # The phase replaces every badge of the cluster; the download button fills its slot.
        assert f'''hx-swap-oob="outerHTML:[data-phase-of='{cluster.pk}']"''' in snapshot
        assert '<span hx-swap-oob="innerHTML" id="kubeconfig-action">' in snapshot
        assert "Pending" in snapshot

        # A status save by the controller reaches the page (post_save -> publisher -> group).
        await database_sync_to_async(mark_ready)()
        # "phase" and "status" are two messages (the list page takes only the first).
        # Under load an earlier render of a section may still be on its way: read (bounded) until the save's arrives.
        update = ""
        for _ in range(6):
            update += await comm.receive_from(timeout=TIMEOUT)
            if "ControlPlaneReady" in update and "phase-ready" in update:
                break
        assert re.search(rf'<span[^>]*class="badge phase-ready"[^>]*data-phase-of="{cluster.pk}"', update)
        assert "ControlPlaneReady" in update
        assert "10.212.0.1:31443" in update

        # A watched pod change reaches the page as the pods table.
        store.apply("pods", "ADDED", pod(cluster, "live-abc", phase="Running", ready=True))
        publisher.kind_changed(cluster.pk, "pods", 0.0)
        update = await comm.receive_from(timeout=TIMEOUT)
        assert 'id="pods"' in update and 'data-pod="live-abc"' in update and 'data-ready="true"' in update
        await comm.disconnect()

    asyncio.run(scenario())


def test_a_page_of_another_cluster_gets_nothing(cluster):
    other = make_tenant(org=cluster.organization, name="other")
    member = make_user(role="member", org=cluster.organization)
    cookie = session_cookie(member)

    async def scenario():
        await asyncio.to_thread(publisher.wait_idle)  # the creation's own status message is out
        comm = communicator(f"/ws/clusters/{other.pk}/", cookie)
        assert (await comm.connect(timeout=TIMEOUT))[0]
        await comm.receive_from(timeout=TIMEOUT)  # snapshot
        store.apply("pods", "ADDED", pod(cluster, "live-xyz", phase="Pending", ready=False))
        publisher.kind_changed(cluster.pk, "pods", 0.0)
        await asyncio.to_thread(publisher.wait_idle)
        assert await comm.receive_nothing(timeout=0.5)
        await comm.disconnect()

    asyncio.run(scenario())


def test_list_page_gets_phase_badges_of_visible_clusters_only(cluster):
    hidden = make_tenant(org=make_org(), name="hidden")
    member = make_user(role="member", org=cluster.organization)
    cookie = session_cookie(member)

    async def scenario():
        await asyncio.to_thread(publisher.wait_idle)  # the creation's own status message is out
        comm = communicator("/ws/clusters/", cookie)
        assert (await comm.connect(timeout=TIMEOUT))[0]
        snapshot = await comm.receive_from(timeout=TIMEOUT)
        assert f'data-phase-of="{cluster.pk}"' in snapshot and f'data-phase-of="{hidden.pk}"' not in snapshot
        cluster.phase = Phase.PROVISIONING
        await database_sync_to_async(cluster.save)()
        update = await comm.receive_from(timeout=TIMEOUT)
        assert f'data-phase-of="{cluster.pk}"' in update and "phase-provisioning" in update
        assert 'id="conditions"' not in update  # the list page has only the badges
        await comm.disconnect()

    asyncio.run(scenario())


def test_list_page_hears_of_clusters_created_and_deleted_in_its_organisations_only(cluster):
    member = make_user(role="member", org=cluster.organization)
    cookie = session_cookie(member)

    async def scenario():
        await asyncio.to_thread(publisher.wait_idle)  # the fixture's own creation is out
        comm = communicator("/ws/clusters/", cookie)
        assert (await comm.connect(timeout=TIMEOUT))[0]
        await comm.receive_from(timeout=TIMEOUT)  # snapshot

        # Another organisation's new cluster: nothing for this page.
        await database_sync_to_async(make_tenant)(org=await database_sync_to_async(make_org)(), name="elsewhere")
        await asyncio.to_thread(publisher.wait_idle)
        assert await comm.receive_nothing(timeout=0.5)

        # A colleague's new cluster: the page is told to reload its table, then follows the new row's phase.
        added = await database_sync_to_async(make_tenant)(org=cluster.organization, name="colleagues")
        # (Its first phase went out before this page joined its group: the reloaded table shows it.)
        assert 'id="cluster-list-changed"' in await comm.receive_from(timeout=TIMEOUT)
        added.phase = Phase.PROVISIONING
        await database_sync_to_async(added.save)()
        update = await comm.receive_from(timeout=TIMEOUT)
        assert f'data-phase-of="{added.pk}"' in update and "phase-provisioning" in update

        # Its row deleted: told again (and no longer in its group).
        await database_sync_to_async(added.delete)()
        assert 'id="cluster-list-changed"' in await comm.receive_from(timeout=TIMEOUT)
        await comm.disconnect()

    asyncio.run(scenario())


def test_log_panel_refuses_a_container_that_is_not_the_clusters(cluster):
    member = make_user(role="member", org=cluster.organization)
    cookie = session_cookie(member)
    store.apply("pods", "ADDED", pod(cluster, "live-abc", phase="Running", ready=True))

    async def scenario():
        await asyncio.to_thread(publisher.wait_idle)  # the creation's own status message is out
        comm = communicator(f"/ws/clusters/{cluster.pk}/", cookie)
        assert (await comm.connect(timeout=TIMEOUT))[0]
        await comm.receive_from(timeout=TIMEOUT)  # snapshot
        # What htmx's ws-send sends for the panel's form: its fields plus the request headers.
        await comm.send_json_to({"action": "logs.open", "container": "kube-system-pod/etcd", "HEADERS": {}})
        reply = await comm.receive_from(timeout=TIMEOUT)
        assert 'id="log-panel"' in reply and "No such container in this cluster." in reply
        assert 'id="log-lines"' not in reply  # nothing is followed
        await comm.disconnect()

    asyncio.run(scenario())


@pytest.mark.cluster
def test_a_pod_started_in_the_cluster_reaches_the_page_through_the_watchers(management_cluster):
    """End to end on the real cluster: watch -> store -> publisher -> channel layer -> consumer."""
    pk = random.randint(900_000, 999_999)
    tenant = make_tenant(org=make_org(), id=pk, name=f"e2e-{uuid.uuid4().hex[:6]}")
    viewer = make_user(role="viewer", org=tenant.organization)
    cookie = session_cookie(viewer)
    api = management_cluster.api_client()
    informers.start_live(api_client=api)

    async def scenario():
        assert await asyncio.to_thread(informers.running().wait_synced, 30)
        comm = communicator(f"/ws/clusters/{tenant.pk}/", cookie)
        assert (await comm.connect(timeout=TIMEOUT))[0]
        snapshot = await comm.receive_from(timeout=TIMEOUT)
        assert "No control-plane pods." in snapshot and 'data-source="watch"' in snapshot
        await asyncio.to_thread(workload.create, api, tenant_pk=pk, namespace=tenant.namespace, name="e2e")
        deadline = asyncio.get_running_loop().time() + 90
        seen = ""
        while 'data-ready="true"' not in seen:  # Pending first, then Running, then Ready
            remaining = deadline - asyncio.get_running_loop().time()
            assert remaining > 0, "the pod never showed Ready on the page"
            message = await comm.receive_from(timeout=remaining)
            if 'id="pods"' in message:
                seen = message
        assert re.search(r'<tr data-pod="e2e-[^"]+" data-phase="Running" data-ready="true">', seen)
        assert 'data-deployment="e2e"' in seen and 'data-service="e2e"' in seen
        await comm.disconnect()

    try:
        asyncio.run(scenario())
    finally:
        informers.stop_all()
        workload.delete(api, tenant.namespace)


def test_upgrade_progress_reaches_the_page_step_by_step(cluster):
    from tenants.models import Upgrade
    from tenants.services.lifecycle import mark_upgrade

    viewer = make_user(role="viewer", org=cluster.organization)
    cookie = session_cookie(viewer)
    upgrade = make_upgrade(tenant=cluster, to_version="v1.35.4")

    async def scenario():
        await asyncio.to_thread(publisher.wait_idle)
        comm = communicator(f"/ws/clusters/{cluster.pk}/", cookie)
        assert (await comm.connect(timeout=TIMEOUT))[0]
        await comm.receive_from(timeout=TIMEOUT)  # snapshot
        await database_sync_to_async(mark_upgrade)(upgrade, Upgrade.State.RUNNING, "rolling the apiserver pods")
        update = ""
        while "rolling the apiserver pods" not in update:
            update = await comm.receive_from(timeout=TIMEOUT)
        assert re.search(r'<section hx-swap-oob="true" class="card" id="upgrades"', update)
        assert f"{upgrade.from_version} → v1.35.4" in update and "status-running" in update
        await comm.disconnect()

    asyncio.run(scenario())
