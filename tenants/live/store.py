"""The informers' in-memory copy of the management cluster's objects, indexed by tenant.

Written by the watch threads, read by snapshots and by the publisher; one lock guards it all
(updates are tiny and reads copy out). Secrets and ConfigMaps are kept as metadata only (their
informers ask for PartialObjectMetadata): the controller needs to know they changed, not what is in them.
"""

import re
import threading
from collections import defaultdict

from tenants.services.manifests.labels import TENANT_KEY

# Every kind the informers follow (tenants.informers.WATCHES, in this order).
KINDS = ("namespaces", "configmaps", "secrets", "services", "deployments", "poddisruptionbudgets", "pods", "events")

# TenantControlPlane.namespace is "kui-<pk>-<name>"; Events carry no labels of ours, so their
# tenant is read from the namespace they live in.
_TENANT_NAMESPACE = re.compile(r"^kui-(\d+)-")


def tenant_of(kind: str, obj: dict) -> int | None:
    """The tenant pk an object belongs to, or None when it is not one of ours."""
    meta = obj.get("metadata", {})
    if kind == "events":
        match = _TENANT_NAMESPACE.match(meta.get("namespace", ""))
        return int(match.group(1)) if match else None
    value = (meta.get("labels") or {}).get(TENANT_KEY, "")
    return int(value) if value.isdigit() else None


def _key(obj: dict) -> tuple[str, str]:
    meta = obj["metadata"]
    return meta.get("namespace", ""), meta["name"]


def _versions(objects: dict[tuple[str, str], dict]) -> dict[tuple[str, str], str]:
    return {key: obj["metadata"].get("resourceVersion", "") for key, obj in objects.items()}


class ObjectStore:
    def __init__(self, *, events_per_tenant: int = 100):
        self._lock = threading.Lock()
        # kind -> tenant pk -> (namespace, name) -> object
        self._by_tenant: dict[str, dict[int, dict[tuple[str, str], dict]]] = {k: defaultdict(dict) for k in KINDS}
        self._synced: set[str] = set()
        self._events_per_tenant = events_per_tenant

    def replace(self, kind: str, objects: list[dict]) -> set[int]:
        """Install a full list (after a list call or a 410 re-list). Returns the tenants whose objects of
        this kind differ from what was held (added, removed or at another resourceVersion)."""
        fresh: dict[int, dict[tuple[str, str], dict]] = defaultdict(dict)
        for obj in objects:
            pk = tenant_of(kind, obj)
            if pk is not None:
                fresh[pk][_key(obj)] = obj
        with self._lock:
            held = self._by_tenant[kind]
            touched = {pk for pk in set(held) | set(fresh)
                       if _versions(held.get(pk, {})) != _versions(fresh.get(pk, {}))}
            self._by_tenant[kind] = fresh
            if kind == "events":
                for pk in fresh:
                    self._trim_events(pk)
            self._synced.add(kind)
        return touched

    def apply(self, kind: str, event_type: str, obj: dict) -> int | None:
        """Apply one watch event (ADDED/MODIFIED/DELETED). Returns the tenant it concerns, if any."""
        pk = tenant_of(kind, obj)
        if pk is None:
            return None
        with self._lock:
            objects = self._by_tenant[kind][pk]
            if event_type == "DELETED":
                objects.pop(_key(obj), None)
                if not objects:
                    del self._by_tenant[kind][pk]
            else:
                objects[_key(obj)] = obj
                if kind == "events":
                    self._trim_events(pk)
        return pk

    def _trim_events(self, pk: int) -> None:
        events = self._by_tenant["events"][pk]
        if len(events) > self._events_per_tenant:
            # Oldest by resourceVersion order of arrival is good enough: dicts keep insertion order.
            for key in list(events)[: len(events) - self._events_per_tenant]:
                del events[key]

    def for_tenant(self, kind: str, pk: int) -> list[dict]:
        with self._lock:
            return list(self._by_tenant[kind].get(pk, {}).values())

    def synced(self, kind: str) -> bool:
        with self._lock:
            return kind in self._synced

    def all_synced(self) -> bool:
        with self._lock:
            return self._synced.issuperset(KINDS)

    def clear(self) -> None:
        with self._lock:
            self._by_tenant = {k: defaultdict(dict) for k in KINDS}
            self._synced.clear()


class InNamespace:
    """A tenant's objects limited to its own namespace.

    The pk label alone is not enough: another installation (another app database) sharing the
    management cluster numbers its tenants from 1 too; the namespace (`kui-<pk>-<name>`) is unique.
    """

    def __init__(self, objects, namespace: str):
        self._objects, self.namespace = objects, namespace

    def for_tenant(self, kind: str, pk: int) -> list[dict]:
        return [o for o in self._objects.for_tenant(kind, pk) if o["metadata"].get("namespace") == self.namespace]


# The process's one store (the watchers fill it; snapshots read it).
store = ObjectStore()
