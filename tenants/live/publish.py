"""Render what changed once, send it to the tenant's channel-layer group.

Changes arrive from the informers (`tenants.informers` subscribes `kind_changed`) and from status
saves; one publisher thread drains them in batches, so a burst of watch events for one tenant
becomes one render per section, and a render goes to the group once however many browsers are in it.
"""

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import close_old_connections

from tenants.live import fragments
from tenants.live.store import InNamespace, store
from tenants.models import TenantControlPlane

log = logging.getLogger(__name__)

# Which page sections a change of each kind can alter.
SECTIONS_FOR_KIND = {
    "pods": ("pods",),
    "deployments": ("pods",),
    "services": ("pods",),
    "events": ("events",),
}
STATUS_SECTIONS = ("phase", "status")
MESSAGE_TYPE = "live.fragment"  # handled by ClusterStatusConsumer.live_fragment
# Every detail page is in this group: news about the watches themselves (stale data or not).
LIVE_GROUP = "live.status"
LIVE_SECTION = "live"
# Every list page is in this group: a cluster was created or deleted (each page checks whether it may see it).
LIST_GROUP = "tenants.list"
LIST_SECTION = "list"
_ALL_TENANTS = 0
NEGATIVE_LOOKUP_SECONDS = 10


class Publisher:
    def __init__(self):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._consumer_loop: asyncio.AbstractEventLoop | None = None
        self._own_loop: asyncio.AbstractEventLoop | None = None
        self._last_html: dict[tuple[int, str], str] = {}
        self._namespaces: dict[int, tuple[str | None, float]] = {}  # pk -> (namespace or None, looked up at)
        self._idle = threading.Condition()
        self._outstanding = 0  # changes queued or being published
        self.sent = 0
        # Since when the informers feeding this publisher have been failing (set by tenants.informers).
        self.watch_failing_since: Callable[[], float | None] = lambda: None

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """The event loop the consumers of this process run in (needed by the in-memory layer)."""
        self._consumer_loop = loop

    def health_changed(self, kind: str, failing_since: float | None) -> None:
        """A watch started failing or works again: every page's live status says so."""
        self.changed(_ALL_TENANTS, (LIVE_SECTION,))

    def kind_changed(self, tenant_pk: int, kind: str, received_at: float) -> None:
        self.changed(tenant_pk, SECTIONS_FOR_KIND[kind], received_at)

    def changed(self, tenant_pk: int, sections: tuple[str, ...], event_at: float | None = None) -> None:
        self._ensure_thread()
        event_at = event_at or time.time()
        with self._idle:
            self._outstanding += len(sections)
        for section in sections:
            self._queue.put((tenant_pk, section, event_at))

    def wait_idle(self, timeout: float = 10) -> bool:
        """Block until every change queued so far has been published (tests, benchmarks)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._outstanding == 0, timeout=timeout)

    def _ensure_thread(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="live-publisher", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        self._own_loop = asyncio.new_event_loop()
        while True:
            batch, count = self._next_batch()
            try:
                self._publish(batch)
            except Exception:
                log.exception("live publisher: batch failed")
            finally:
                try:
                    close_old_connections()
                except Exception:  # a database hiccup must not end the publisher
                    log.warning("live publisher: closing old connections failed", exc_info=True)
                with self._idle:
                    self._outstanding -= count
                    self._idle.notify_all()

    def _next_batch(self) -> tuple[dict[tuple[int, str], float], int]:
        """Everything queued now, one entry per (tenant, section) keeping the earliest event time; and how
        many changes that batch covers."""
        batch: dict[tuple[int, str], float] = {}
        count = 0
        item = self._queue.get()
        while True:
            pk, section, at = item
            batch[(pk, section)] = min(at, batch.get((pk, section), at))
            count += 1
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, count

    def _publish(self, batch: dict[tuple[int, str], float]) -> None:
        for (pk, section), event_at in batch.items():
            if section == LIVE_SECTION:
                self._send(LIVE_GROUP, {"type": MESSAGE_TYPE, "section": section, "tenant": pk, "event_at": event_at,
                                        "html": fragments.render_live_status(connected=True, source="watch",
                                                                             stale_since=self.watch_failing_since())})
                continue
            if section == LIST_SECTION:
                self._send(LIST_GROUP, {"type": MESSAGE_TYPE, "section": section, "tenant": pk, "event_at": event_at,
                                        "html": ""})
                continue
            namespace = self._namespace_of(pk)
            if namespace is None:  # not a tenant of this installation (or gone)
                continue
            rendered = fragments.render_section(section, tenant_pk=pk, objects=InNamespace(store, namespace))
            if rendered is None:  # the tenant is gone, or the section has no template
                continue
            if self._last_html.get((pk, section)) == rendered:
                continue
            self._last_html[(pk, section)] = rendered
            html = rendered + fragments.render_stamp(tenant_pk=pk, event_at=event_at)
            self._send(TenantControlPlane(pk=pk).ws_group,
                       {"type": MESSAGE_TYPE, "section": section, "html": html, "tenant": pk, "event_at": event_at})

    def _namespace_of(self, pk: int) -> str | None:
        """The tenant's namespace (names never change), or None if this database has no such tenant.
        Misses are remembered briefly: another installation's busy tenant must not cost a query per event."""
        namespace, at = self._namespaces.get(pk, (None, 0.0))
        if namespace is None and time.monotonic() - at > NEGATIVE_LOOKUP_SECONDS:
            tenant = TenantControlPlane.objects.filter(pk=pk).only("pk", "name").first()
            namespace = tenant.namespace if tenant else None
            self._namespaces[pk] = (namespace, time.monotonic())
        return namespace

    def _send(self, group: str, message: dict) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        if isinstance(layer, InMemoryChannelLayer):
            # The in-memory layer lives in the consumers' loop; without one nobody here listens.
            loop = self._consumer_loop
            if loop is None or loop.is_closed():
                return
            asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop).result(timeout=10)
        else:
            self._own_loop.run_until_complete(layer.group_send(group, message))
        self.sent += 1

    def reset(self) -> None:
        """Forget what was sent and which tenants exist (tests; a fresh process starts like this)."""
        self._last_html.clear()
        self._namespaces.clear()

    def forget(self, tenant_pk: int) -> None:
        """Drop the dedup memory of a tenant (so the next render is sent even if unchanged)."""
        for key in [k for k in self._last_html if k[0] == tenant_pk]:
            del self._last_html[key]


publisher = Publisher()


def publish_tenant_status(tenant) -> None:
    """Push the phase badge, conditions, endpoint and upgrade progress of `tenant` to its viewers.

    Called after the status is saved (the post_save signal does it on commit).
    """
    publisher.changed(tenant.pk, STATUS_SECTIONS)
