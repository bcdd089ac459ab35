"""HTML fragments for the live stream, rendered from the same partial templates as the page.

Each fragment's root element carries the id the page uses, so htmx's ws extension swaps it
out of band (`hx-swap-oob`); there is no second rendering path in the browser.
"""

import re
import time
from datetime import UTC, datetime
from functools import cache
from typing import Protocol

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string

from tenants.live import rows
from tenants.models import TenantControlPlane

PHASE_BADGE = "tenants/partials/phase_badge.html"
KUBECONFIG_ACTION = "tenants/partials/kubeconfig_action.html"
# Page sections and the partials that render them. Sections whose template is missing are skipped.
SECTION_TEMPLATES = {
    "phase": (PHASE_BADGE,),
    "status": (
        "tenants/partials/conditions.html",
        "tenants/partials/endpoint.html",
        "tenants/partials/upgrades.html",
        KUBECONFIG_ACTION,
    ),
    "pods": ("tenants/partials/pods.html",),
    "events": ("tenants/partials/events.html",),
}
# Sections read from the database (the rest come from the watched Kubernetes objects).
DB_SECTIONS = ("phase", "status")

_FIRST_TAG = re.compile(r"^(\s*<[a-zA-Z][\w-]*)")


class TenantObjects(Protocol):
    """Where a tenant's Kubernetes objects come from: the watchers' store, or fresh list calls."""

    def for_tenant(self, kind: str, pk: int) -> list[dict]: ...


def as_oob(html: str, swap: str = "true") -> str:
    """Mark the fragment's root element for an out-of-band swap (`swap`: by its id, or htmx's "style:selector")."""
    if not html.strip() or "hx-swap-oob" in html[: html.find(">") + 1]:
        return html
    return _FIRST_TAG.sub(lambda m: f'{m.group(1)} hx-swap-oob="{swap}"', html, count=1)


def oob_swap_for(name: str, tenant_pk: int) -> str:
    """How a partial lands on the page: most replace the element of their id; the phase badge replaces
    every badge of the cluster (header, status card, list row: one phase per page), and the download
    button only the inside of its slot (which stays hidden for those who may not download)."""
    if name == PHASE_BADGE:
        return f"outerHTML:[data-phase-of='{tenant_pk}']"
    if name == KUBECONFIG_ACTION:
        return "innerHTML"
    return "true"


@cache
def template_exists(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


def _now() -> datetime:
    return datetime.now(UTC)


def pods_context(tenant_pk: int, objects: TenantObjects) -> dict:
    now = _now()
    return {
        "tenant_pk": tenant_pk,
        "live": True,
        "pods": rows.pod_rows(objects.for_tenant("pods", tenant_pk), now),
        "rollouts": sorted((rows.rollout_row(d) for d in objects.for_tenant("deployments", tenant_pk)),
                           key=lambda r: r.name),
        "services": sorted((rows.service_row(s) for s in objects.for_tenant("services", tenant_pk)),
                           key=lambda r: r.name),
    }


def events_context(tenant_pk: int, objects: TenantObjects) -> dict:
    return {
        "tenant_pk": tenant_pk,
        "live": True,
        "events": rows.event_rows(objects.for_tenant("events", tenant_pk), _now(),
                                  limit=settings.LIVE_EVENTS_SHOWN),
    }


def tenant_context(tenant: TenantControlPlane) -> dict:
    return {"tenant": tenant, "upgrades": tenant.upgrades.select_related("requested_by"), "live": True}


def _render_all(names: tuple[str, ...], context: dict, tenant_pk: int) -> str:
    return "".join(as_oob(render_to_string(n, context), oob_swap_for(n, tenant_pk))
                   for n in names if template_exists(n))


def render_section(section: str, *, tenant_pk: int, objects: TenantObjects,
                   tenant: TenantControlPlane | None = None) -> str | None:
    """One section's out-of-band HTML, or None if there is nothing to render."""
    names = SECTION_TEMPLATES[section]
    if section in DB_SECTIONS:
        tenant = tenant or (
            TenantControlPlane.objects.select_related("organization").filter(pk=tenant_pk).first()
        )
        if tenant is None:
            return None
        context = tenant_context(tenant)
    elif section == "pods":
        context = pods_context(tenant_pk, objects)
    else:
        context = events_context(tenant_pk, objects)
    html = _render_all(names, context, tenant_pk)
    return html or None


def render_log_panel(*, selected: str | None, lines: list[str], error: str = "") -> str:
    """The log panel: closed, or following `selected` ("pod/container") with its latest lines."""
    pod, _, container = (selected or "").partition("/")
    return as_oob(render_to_string("tenants/partials/log_panel.html", {
        "open": selected is not None, "pod": pod, "container": container, "lines": lines, "error": error,
        "live": True,
    }))


def render_log_lines(*, lines: list[str]) -> str:
    """Just the lines (the rest of the open panel stays as it is)."""
    return as_oob(render_to_string("tenants/partials/log_lines.html", {"lines": lines}))


def log_targets(tenant_pk: int, objects: TenantObjects) -> set[str]:
    """Every container of the tenant's pods, as "pod/container": what the log panel may follow."""
    return {f"{row.name}/{c}" for row in rows.pod_rows(objects.for_tenant("pods", tenant_pk), _now())
            for c in row.containers}


def render_stamp(*, tenant_pk: int, event_at: float | None) -> str:
    """A hidden marker sent with every update: when the change it carries was seen by the watch."""
    return render_to_string("tenants/partials/live_stamp.html", {
        "tenant_pk": tenant_pk, "event_at": f"{event_at or time.time():.6f}",
    })


def render_live_status(*, connected: bool, source: str, stale_since: float | None = None) -> str:
    """The page's stream status: live, or live but the cluster's data stale since when."""
    return as_oob(render_to_string("tenants/partials/live_status.html", {
        "connected": connected, "source": source, "synced_at": _now(),
        "stale_since": datetime.fromtimestamp(stale_since, UTC) if stale_since else None,
    }))


def render_list_changed() -> str:
    """Tells a list page that the clusters it may see changed: it reloads its table (tenants/list.html)."""
    return as_oob(render_to_string("tenants/partials/list_changed.html", {"at": f"{time.time():.6f}"}))
