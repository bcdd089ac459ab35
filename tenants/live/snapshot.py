"""The full picture of one tenant, sent to a browser when its stream (re)connects."""

import json
import logging

from kubernetes import client

from tenants import informers
from tenants.live import fragments
from tenants.live.store import InNamespace, store
from tenants.models import TenantControlPlane
from tenants.services.kube import management_api_client
from tenants.services.manifests.labels import MANAGED_SELECTOR, TENANT_KEY

log = logging.getLogger(__name__)

LIST_TIMEOUT = 10  # seconds per list call


class ListedObjects:
    """A tenant's objects from one list call per kind in its namespace (when this process runs no watchers)."""

    def __init__(self, tenant: TenantControlPlane, api_client: client.ApiClient):
        selector = f"{MANAGED_SELECTOR},{TENANT_KEY}={tenant.pk}"
        core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
        ns = tenant.namespace
        common = {"_preload_content": False, "_request_timeout": LIST_TIMEOUT}
        calls = {
            "pods": lambda: core.list_namespaced_pod(ns, label_selector=selector, **common),
            "deployments": lambda: apps.list_namespaced_deployment(ns, label_selector=selector, **common),
            "services": lambda: core.list_namespaced_service(ns, label_selector=selector, **common),
            "events": lambda: core.list_namespaced_event(ns, **common),
        }
        self._items = {kind: json.loads(call().data).get("items", []) for kind, call in calls.items()}

    def for_tenant(self, kind: str, pk: int) -> list[dict]:
        return self._items[kind]


class Unavailable:
    """The management cluster could not be read: empty tables, and the status line says so."""

    def for_tenant(self, kind: str, pk: int) -> list[dict]:
        return []


def objects_for(tenant: TenantControlPlane) -> tuple[fragments.TenantObjects, str]:
    """The best source for `tenant`'s objects, and its name ("watch", "list" or "unavailable")."""
    if informers.running() is not None and store.all_synced():
        return InNamespace(store, tenant.namespace), "watch"
    try:
        return ListedObjects(tenant, management_api_client()), "list"
    except Exception as exc:  # unreachable cluster, missing kubeconfig: the page still shows the DB state
        log.warning("live snapshot for %s: cannot list objects: %s", tenant.pk, exc)
        return Unavailable(), "unavailable"


def render_snapshot(tenant: TenantControlPlane, *, objects: fragments.TenantObjects | None = None,
                    source: str = "") -> str:
    """Every live section of the detail page, as one message of out-of-band fragments.

    `objects`/`source` come from `objects_for(tenant)` (which may call the API: consumers run it
    outside the database thread); without them it is called here.
    """
    if objects is None:
        objects, source = objects_for(tenant)
    parts = [fragments.render_section(s, tenant_pk=tenant.pk, objects=objects, tenant=tenant)
             for s in fragments.SECTION_TEMPLATES]
    parts.append(fragments.render_log_panel(selected=None, lines=[]))
    stale_since = informers.failing_since() if source == "watch" else None
    parts.append(fragments.render_live_status(connected=True, source=source, stale_since=stale_since))
    parts.append(fragments.render_stamp(tenant_pk=tenant.pk, event_at=None))
    return "".join(p for p in parts if p)


def render_list_snapshot(tenant_pks: list[int]) -> str:
    """The phase badges of the clusters on the list page."""
    tenants = TenantControlPlane.objects.select_related("organization").filter(pk__in=tenant_pks)
    return "".join(fragments.render_section("phase", tenant_pk=t.pk, objects=Unavailable(), tenant=t) or ""
                   for t in tenants)
