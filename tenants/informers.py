"""One informer per kind on the management API, shared by everything in the process that follows it.

The kinds: everything the controller owns in the management cluster (Namespaces, the anchor
ConfigMap, Secrets, Services, Deployments, PodDisruptionBudgets, all labelled
`app.kubernetes.io/managed-by=kamaji-ui` and routed to their tenant by the `kamaji-ui/tenant`
label), plus Pods (the controller and the live status) and Events (the live status only; they
carry no labels of ours and are routed by namespace).

Who hears of a change (subscribers, by kind):
- the controller's schedule: an owned object changed (deleted, edited) → reconcile its tenant
  after EVENT_DELAY (`Controller.run` subscribes; it holds the informers while it leads);
- the live publisher: re-render the page sections the kind feeds (`start_live`).

Who runs the set (it runs while anyone holds it, one set per process):
- the embedded default (in-memory channel layer): the server process, for its in-process
  controller while it leads and for its consumers (the first one calls `start_live`); one set
  of watches serves both;
- `manage.py controller` while it leads: for its schedule and, with channels-redis, publishing
  to every server replica (`run_live_while_leading`); followers and web replicas hold none.
"""

import logging
import threading
from dataclasses import dataclass

from kubernetes import client

from tenants.live.publish import SECTIONS_FOR_KIND, publisher
from tenants.live.store import store
from tenants.live.watch import ChangeCallback, HealthCallback, KindWatcher, Watchers, WatchSpec
from tenants.services.kube import management_api_client
from tenants.services.manifests.labels import MANAGED_SELECTOR

log = logging.getLogger(__name__)

_core, _apps, _policy = client.CoreV1Api, client.AppsV1Api, client.PolicyV1Api
WATCHES = (
    WatchSpec("namespaces", "", _core, "list_namespace", MANAGED_SELECTOR),
    WatchSpec("configmaps", "", _core, "list_config_map_for_all_namespaces", MANAGED_SELECTOR, metadata_only=True),
    WatchSpec("secrets", "", _core, "list_secret_for_all_namespaces", MANAGED_SELECTOR, metadata_only=True),
    WatchSpec("services", "", _core, "list_service_for_all_namespaces", MANAGED_SELECTOR),
    WatchSpec("deployments", "apps", _apps, "list_deployment_for_all_namespaces", MANAGED_SELECTOR),
    WatchSpec("poddisruptionbudgets", "policy", _policy, "list_pod_disruption_budget_for_all_namespaces",
              MANAGED_SELECTOR),
    WatchSpec("pods", "", _core, "list_pod_for_all_namespaces", MANAGED_SELECTOR),
    WatchSpec("events", "", _core, "list_event_for_all_namespaces", None),
)
# What the controller reconciles on: everything but Events (it writes Events itself).
CONTROLLER_KINDS = frozenset(spec.kind for spec in WATCHES) - {"events"}
LIVE_KINDS = frozenset(SECTIONS_FOR_KIND)
LIVE = "live"


@dataclass(frozen=True)
class Subscriber:
    kinds: frozenset[str]
    on_change: ChangeCallback
    on_health: HealthCallback | None = None


_lock = threading.RLock()
_running: Watchers | None = None
_holders: set[str] = set()
_subscribers: dict[str, Subscriber] = {}


def subscribe(name: str, *, kinds: frozenset[str], on_change: ChangeCallback,
              on_health: HealthCallback | None = None) -> None:
    """Hear of every change of `kinds` (from the watch threads: be quick, do not block)."""
    global _subscribers
    with _lock:  # copy on write: the watch threads read the dict without the lock
        _subscribers = {**_subscribers, name: Subscriber(frozenset(kinds), on_change, on_health)}


def unsubscribe(name: str) -> None:
    global _subscribers
    with _lock:
        _subscribers = {k: v for k, v in _subscribers.items() if k != name}


def _changed(tenant_pk: int, kind: str, received_at: float) -> None:
    for name, sub in _subscribers.items():
        if kind in sub.kinds:
            try:
                sub.on_change(tenant_pk, kind, received_at)
            except Exception:  # one subscriber's failure must not end the watch or starve the others
                log.exception("informers: subscriber %s failed on %s of tenant %s", name, kind, tenant_pk)


def _health(kind: str, failing_since: float | None) -> None:
    for name, sub in _subscribers.items():
        if sub.on_health is not None:
            try:
                sub.on_health(kind, failing_since)
            except Exception:
                log.exception("informers: subscriber %s failed on health of %s", name, kind)


def hold(holder: str, *, api_client: client.ApiClient | None = None) -> Watchers:
    """Start the informers if they are not running, and keep them running until `release(holder)`."""
    global _running
    with _lock:
        _holders.add(holder)
        if _running is None:
            api_client = api_client or management_api_client()
            watchers = [KindWatcher(spec, api_client=api_client, object_store=store, on_change=_changed,
                                    client_factory=management_api_client, on_health=_health)
                        for spec in WATCHES]
            for w in watchers:
                w.start()
            _running = Watchers(watchers)
            log.info("informers: %d watches started for %s", len(watchers), holder)
        return _running


def release(holder: str) -> None:
    """`holder` no longer needs the informers; the last one to go stops them."""
    with _lock:
        _holders.discard(holder)
        if not _holders:
            _stop()


def _stop() -> None:
    global _running
    if _running is not None:
        _running.stop()
        _running = None
        store.clear()
        log.info("informers: stopped")


def stop_all() -> None:
    """Stop the informers whoever holds them (tests; a fresh process starts without)."""
    with _lock:
        _holders.clear()
        unsubscribe(LIVE)
        _stop()


def running() -> Watchers | None:
    return _running


def failing_since() -> float | None:
    watchers = _running
    return watchers.failing_since() if watchers else None


def serves_live() -> bool:
    """Whether this process's informers feed the live publisher (see `start_live`)."""
    return LIVE in _holders and _running is not None


def start_live(*, api_client: client.ApiClient | None = None) -> Watchers:
    """The live status from this process: the publisher hears of every change (idempotent)."""
    with _lock:
        publisher.watch_failing_since = failing_since
        subscribe(LIVE, kinds=LIVE_KINDS, on_change=publisher.kind_changed,
                  on_health=publisher.health_changed)
        return hold(LIVE, api_client=api_client)


def stop_live() -> None:
    with _lock:
        unsubscribe(LIVE)
        release(LIVE)


def run_live_while_leading(*, leading: threading.Event, stop: threading.Event) -> None:
    """For a controller in its own process (channels-redis): publish while this replica leads.

    One replica publishes each change, and every server replica's consumers receive it through
    Redis. With the in-memory layer there is nobody to publish to from here (the server process
    publishes itself), so this returns at once; the controller still holds the informers for its
    own schedule while it leads.
    """
    from channels.layers import InMemoryChannelLayer, get_channel_layer

    if isinstance(get_channel_layer(), InMemoryChannelLayer):
        log.info("live status: in-memory channel layer, the server process publishes")
        return
    while not stop.is_set():
        if not leading.wait(timeout=1.0):
            continue
        start_live()
        while leading.is_set() and not stop.is_set():
            stop.wait(1.0)
        stop_live()
