"""An informer for one kind on the management cluster: list, then watch, kept in a store.

Each `KindWatcher` lists once, then watches from the list's resourceVersion with bookmarks
(so a reconnect resumes where it stopped), re-lists on 410 Gone, and reports every change of a
tenant's objects to one callback. Which kinds run, and who hears of their changes, is wired in
`tenants.informers` (one informer per kind per process, whatever the number of browsers).
"""

import contextlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.watch.watch import iter_resp_lines

from tenants.live.store import ObjectStore

log = logging.getLogger(__name__)

HTTP_GONE = 410
# Metadata only (what client-go's metadata informers ask for): no Secret data leaves the API server.
METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1, application/json"
METADATA_WATCH = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1, application/json"


@dataclass(frozen=True)
class WatchSpec:
    kind: str  # the resource's plural, as the API (and the store) names it
    group: str  # its API group ("" for core)
    api: type
    list_all: str  # the *_for_all_namespaces method (list_namespace for Namespaces)
    label_selector: str | None  # Events carry no labels of ours: watched whole, kept per tenant namespace
    metadata_only: bool = False


class Gone(Exception):
    """The resourceVersion we hold is too old: list again."""


# on_change(tenant_pk, kind, received_at): called from the watch thread for every change.
ChangeCallback = Callable[[int, str, float], None]
# on_health(kind, failing_since): None when the watch works again, else when it started failing.
HealthCallback = Callable[[str, float | None], None]


class KindWatcher(threading.Thread):
    def __init__(self, spec: WatchSpec, *, api_client: client.ApiClient, object_store: ObjectStore,
                 on_change: ChangeCallback, timeout_seconds: int = 300,
                 client_factory: Callable[[], client.ApiClient] | None = None,
                 on_health: HealthCallback | None = None):
        super().__init__(name=f"informer-{spec.kind}", daemon=True)
        self.spec = spec
        self._fn = getattr(spec.api(api_client), spec.list_all)
        self._client_factory = client_factory
        self._on_health = on_health
        self.failing_since: float | None = None
        self._store = object_store
        self._on_change = on_change
        self._timeout = timeout_seconds
        self._stopping = threading.Event()
        self._resp = None
        self.resource_version: str | None = None
        # Counters (read by tests and the benchmark).
        self.lists = 0
        self.watches = 0
        self.bookmarks = 0
        self.events = 0
        self.synced = threading.Event()

    def _selector(self) -> dict:
        return {"label_selector": self.spec.label_selector} if self.spec.label_selector else {}

    def _accept(self, metadata_media_type: str) -> dict:
        return {"_headers": {"Accept": metadata_media_type}} if self.spec.metadata_only else {}

    def run(self) -> None:
        backoff = 1.0
        failures = 0
        while not self._stopping.is_set():
            try:
                if self.resource_version is None:
                    self.relist()
                self.watch_once()
                backoff = 1.0
                failures = 0
            except Gone:
                log.info("watch %s: 410 Gone at %s, re-listing", self.spec.kind, self.resource_version)
                self.resource_version = None
            except ApiException as exc:
                if exc.status == HTTP_GONE:
                    self.resource_version = None
                    continue
                log.warning("watch %s: API error %s, retrying in %.0fs", self.spec.kind, exc.status, backoff)
                self._health(failing=True)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 30)
            except Exception as exc:
                if self._stopping.is_set():
                    break
                failures += 1
                log.warning("watch %s: %s, retrying in %.0fs", self.spec.kind, exc, backoff)
                self._health(failing=True)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 30)
                if failures >= 2 and self._client_factory is not None:
                    # Still failing at the connection level: the kubeconfig may have changed (a rebuilt
                    # cluster, rotated credentials). Reload it, and list afresh: the old
                    # resourceVersion may belong to another etcd.
                    self._fn = getattr(self.spec.api(self._client_factory()), self.spec.list_all)
                    self.resource_version = None

    def _health(self, *, failing: bool) -> None:
        """Track whether this watch works; tell the pages when that changes (their data may be stale)."""
        if failing == (self.failing_since is not None):
            return
        self.failing_since = time.time() if failing else None
        if self._on_health is not None:
            self._on_health(self.spec.kind, self.failing_since)

    def relist(self) -> None:
        resp = self._fn(_preload_content=False, _request_timeout=30, **self._selector(), **self._accept(METADATA_LIST))
        body = json.loads(resp.data)
        # A PartialObjectMetadataList with nothing in it has "items": null.
        touched = self._store.replace(self.spec.kind, body.get("items") or [])
        self.resource_version = body["metadata"]["resourceVersion"]
        self.lists += 1
        self.synced.set()
        self._health(failing=False)
        now = time.time()
        for pk in touched:
            self._on_change(pk, self.spec.kind, now)

    def watch_once(self) -> None:
        """One watch request, until the server ends it (timeout), an error, or stop()."""
        # Jitter so the watches do not all reconnect in the same second.
        timeout = self._timeout + random.randint(0, 30)
        resp = self._fn(
            watch=True, allow_watch_bookmarks=True, resource_version=self.resource_version,
            timeout_seconds=timeout, _preload_content=False, _request_timeout=(10, timeout + 30), **self._selector(),
            **self._accept(METADATA_WATCH),
        )
        self._resp = resp
        self.watches += 1
        self._health(failing=False)
        try:
            for line in iter_resp_lines(resp):
                if self._stopping.is_set():
                    return
                if line:
                    self._handle(json.loads(line))
        finally:
            self._resp = None
            resp.release_conn()

    def _handle(self, event: dict) -> None:
        event_type, obj = event["type"], event["object"]
        if event_type == "ERROR":
            if obj.get("code") == HTTP_GONE:
                raise Gone()
            raise ApiException(status=obj.get("code"), reason=obj.get("message"))
        self.resource_version = obj["metadata"]["resourceVersion"]
        if event_type == "BOOKMARK":
            self.bookmarks += 1
            return
        received = time.time()
        self.events += 1
        pk = self._store.apply(self.spec.kind, event_type, obj)
        if pk is not None:
            self._on_change(pk, self.spec.kind, received)

    def stop(self) -> None:
        self._stopping.set()
        resp = self._resp
        if resp is not None:
            # Unblocks the read in the watch thread (urllib3 >= 2.3). The thread may have released the
            # connection meanwhile (its socket closed: EBADF); then there is nothing left to unblock.
            with contextlib.suppress(OSError):
                resp.shutdown()


class Watchers:
    """The running set of watchers of this process."""

    def __init__(self, watchers: list[KindWatcher]):
        self.watchers = watchers

    def failing_since(self) -> float | None:
        """Since when some watch has been failing (the pages' data may be stale), or None."""
        times = [w.failing_since for w in self.watchers if w.failing_since is not None]
        return min(times) if times else None

    def by_kind(self, kind: str) -> KindWatcher:
        return next(w for w in self.watchers if w.spec.kind == kind)

    def wait_synced(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        return all(w.synced.wait(max(0.0, deadline - time.monotonic())) for w in self.watchers)

    def stop(self) -> None:
        for w in self.watchers:
            w.stop()
        for w in self.watchers:
            w.join(timeout=5)
