"""The informers against the real management cluster: list, follow changes, route them to tenants."""

import random
import threading
import time

import pytest
from channels.layers import channel_layers
from kubernetes import client

from tenants import informers
from tenants.informers import WATCHES
from tenants.live.store import KINDS, ObjectStore
from tenants.live.watch import Gone, KindWatcher, Watchers
from tests.live import workload
from tests.live.conftest import layer_settings

# Every test here but the last needs the real cluster (marked one by one).

PODS = next(spec for spec in WATCHES if spec.kind == "pods")


class Recorder:
    def __init__(self):
        self.changes: list[tuple[int, str, float]] = []
        self._lock = threading.Lock()

    def __call__(self, pk: int, kind: str, at: float) -> None:
        with self._lock:
            self.changes.append((pk, kind, at))

    def kinds_for(self, pk: int) -> set[str]:
        with self._lock:
            return {kind for p, kind, _ in self.changes if p == pk}


def wait_for(predicate, timeout: float = 90, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.2)


def ready_names(store: ObjectStore, pk: int) -> set[str]:
    return {
        p["metadata"]["name"] for p in store.for_tenant("pods", pk)
        if not p["metadata"].get("deletionTimestamp")
        and any(c["type"] == "Ready" and c["status"] == "True" for c in p.get("status", {}).get("conditions", []))
    }


@pytest.fixture
def standin(management_cluster):
    """A stand-in tenant workload with a pk no other test uses."""
    api = management_cluster.api_client()
    pk = random.randint(900_000, 999_999)
    namespace = f"kui-{pk}-watch"
    workload.create(api, tenant_pk=pk, namespace=namespace, name="watch")
    yield api, pk, namespace
    workload.delete(api, namespace)


@pytest.fixture
def watchers(management_cluster):
    store, recorder = ObjectStore(), Recorder()
    running = [KindWatcher(spec, api_client=management_cluster.api_client(), object_store=store, on_change=recorder)
               for spec in WATCHES]
    for w in running:
        w.start()
    for w in running:
        assert w.synced.wait(30), f"{w.spec.kind} did not list"
    yield store, recorder, running
    for w in running:
        w.stop()
    for w in running:
        w.join(timeout=10)
        assert not w.is_alive(), f"{w.spec.kind} watcher did not stop"


@pytest.mark.cluster
def test_one_watch_per_kind_follows_a_pod_being_replaced(watchers, standin):
    store, recorder, running = watchers
    api, pk, namespace = standin
    assert [w.spec.kind for w in running] == list(KINDS)

    wait_for(lambda: len(ready_names(store, pk)) == 1, what="first pod ready in the store")
    (first,) = ready_names(store, pk)
    client.CoreV1Api(api).delete_namespaced_pod(first, namespace)

    wait_for(lambda: first not in {p["metadata"]["name"] for p in store.for_tenant("pods", pk)}
             and len(ready_names(store, pk)) == 1, what="replacement pod ready, deleted one gone")
    assert ready_names(store, pk) != {first}
    # Events carry no labels of ours: they are routed by the tenant namespace they live in.
    wait_for(lambda: any(e["involvedObject"].get("name") == first for e in store.for_tenant("events", pk)),
             what="events of the deleted pod")
    assert {"pods", "deployments", "services", "events"} <= recorder.kinds_for(pk)
    assert [s["metadata"]["name"] for s in store.for_tenant("services", pk)] == ["watch"]
    # Every change came through the running watch: nothing was listed twice.
    assert all(w.lists == 1 for w in running)


@pytest.mark.cluster
def test_objects_of_other_tenants_and_unmanaged_objects_stay_out(watchers, standin):
    store, _, _ = watchers
    _, pk, namespace = standin
    wait_for(lambda: store.for_tenant("deployments", pk), what="deployment in the store")
    assert all(d["metadata"]["namespace"] == namespace for d in store.for_tenant("deployments", pk))
    assert store.for_tenant("pods", pk + 1) == []  # a neighbouring pk is another tenant


@pytest.mark.cluster
def test_410_gone_makes_the_watcher_list_again(management_cluster):
    """A watch whose resourceVersion expired (410) starts over with a list, then watches on."""

    class ExpiresOnce(KindWatcher):
        expired = False

        def watch_once(self):
            if not self.expired:
                self.expired = True
                raise Gone()
            return super().watch_once()

    store, recorder = ObjectStore(), Recorder()
    watcher = ExpiresOnce(PODS, api_client=management_cluster.api_client(), object_store=store,
                          on_change=recorder, timeout_seconds=5)
    watcher.start()
    try:
        wait_for(lambda: watcher.lists == 2 and watcher.watches >= 1, timeout=30, what="re-list after 410")
        assert watcher.resource_version is not None
    finally:
        watcher.stop()
        watcher.join(timeout=10)


@pytest.mark.cluster
def test_a_410_error_event_in_the_stream_is_gone(management_cluster):
    watcher = KindWatcher(PODS, api_client=management_cluster.api_client(), object_store=ObjectStore(),
                          on_change=Recorder())
    with pytest.raises(Gone):
        watcher._handle({"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired",
                                                     "message": "too old resource version"}})
    watcher._handle({"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "12345"}}})
    assert (watcher.bookmarks, watcher.resource_version, watcher.events) == (1, "12345", 0)


@pytest.mark.cluster
def test_a_separate_controller_runs_the_watchers_only_while_it_leads(management_cluster, settings, redis_server):
    settings.CHANNEL_LAYERS = layer_settings("redis", redis_server)
    settings.KUBECONFIG = str(management_cluster.kubeconfig)
    channel_layers.backends.clear()
    leading, stop = threading.Event(), threading.Event()
    thread = threading.Thread(target=informers.run_live_while_leading, kwargs={"leading": leading, "stop": stop})
    thread.start()
    try:
        time.sleep(1.5)
        assert informers.running() is None  # a follower holds no watches
        leading.set()
        wait_for(lambda: informers.running() is not None and informers.running().wait_synced(0), timeout=30,
                 what="watchers of the leader")
        assert len(informers.running().watchers) == len(WATCHES) and informers.serves_live()
        leading.clear()
        wait_for(lambda: informers.running() is None, timeout=30, what="watchers stopped on losing the lease")
    finally:
        stop.set()
        thread.join(timeout=30)
        informers.stop_all()
        channel_layers.backends.clear()


def test_a_watch_that_cannot_reach_the_api_server_reports_itself_failing():
    """Connection refused on a loopback port nobody listens on: the pages must learn their data is stale."""
    from tests.live.conftest import free_port

    config = client.Configuration()
    config.host = f"https://127.0.0.1:{free_port()}"
    config.retries = False
    health: list[tuple[str, float | None]] = []
    watcher = KindWatcher(PODS, api_client=client.ApiClient(config), object_store=ObjectStore(),
                          on_change=Recorder(), on_health=lambda kind, since: health.append((kind, since)))
    watcher.start()
    try:
        wait_for(lambda: health, timeout=15, what="a health report")
        kind, since = health[0]
        assert kind == "pods" and since is not None and watcher.failing_since == since
        assert Watchers([watcher]).failing_since() == since
        assert not watcher.synced.is_set()
    finally:
        watcher.stop()
        watcher.join(timeout=10)
    assert len(health) == 1  # reported once, not at every retry
