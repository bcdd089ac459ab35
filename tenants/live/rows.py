"""Kubernetes objects (as plain dicts from the API) turned into the rows the tables show. Pure."""

from dataclasses import dataclass
from datetime import UTC, datetime


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    # The API writes RFC 3339 with "Z" (and microseconds for eventTime).
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def age(since: datetime | None, now: datetime) -> str:
    """kubectl-style age: 45s, 3m, 2h, 4d."""
    if since is None:
        return ""
    seconds = max(0, int((now - since).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class PodRow:
    name: str
    phase: str  # Pending / Running / Succeeded / Failed / Unknown, or Terminating while deleted
    reason: str  # why a container waits (ContainerCreating, CrashLoopBackOff, ...), else ""
    ready: int
    total: int
    restarts: int
    node: str
    age: str
    is_ready: bool
    containers: tuple[str, ...]
    created: datetime | None = None  # for the page's ticking age


def pod_row(pod: dict, now: datetime) -> PodRow:
    meta, spec, status = pod.get("metadata", {}), pod.get("spec", {}), pod.get("status", {})
    statuses = status.get("containerStatuses") or []
    containers = tuple(c["name"] for c in spec.get("containers", []))
    waiting = next((s["state"]["waiting"].get("reason", "") for s in statuses if "waiting" in s.get("state", {})), "")
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    created = parse_time(meta.get("creationTimestamp"))
    return PodRow(
        name=meta.get("name", ""),
        phase="Terminating" if meta.get("deletionTimestamp") else status.get("phase", "Pending"),
        reason=waiting,
        ready=sum(1 for s in statuses if s.get("ready")),
        total=len(containers),
        restarts=sum(s.get("restartCount", 0) for s in statuses),
        node=spec.get("nodeName", ""),
        age=age(created, now),
        is_ready=conditions.get("Ready") == "True" and not meta.get("deletionTimestamp"),
        containers=containers,
        created=created,
    )


def pod_rows(pods: list[dict], now: datetime) -> list[PodRow]:
    rows = [pod_row(p, now) for p in pods]
    return sorted(rows, key=lambda r: r.name)


@dataclass(frozen=True)
class EventRow:
    type: str
    reason: str
    object: str
    message: str
    count: int
    age: str
    last_seen: datetime | None


def event_row(event: dict, now: datetime) -> EventRow:
    meta = event.get("metadata", {})
    involved = event.get("involvedObject", {})
    last = (
        parse_time(event.get("lastTimestamp")) or parse_time(event.get("eventTime"))
        or parse_time(meta.get("creationTimestamp"))
    )
    series = event.get("series") or {}
    return EventRow(
        type=event.get("type", "Normal"),
        reason=event.get("reason", ""),
        object=f"{involved.get('kind', '').lower()}/{involved.get('name', '')}".strip("/"),
        message=(event.get("message") or "").strip(),
        count=series.get("count") or event.get("count") or 1,
        age=age(last, now),
        last_seen=last,
    )


def event_rows(events: list[dict], now: datetime, *, limit: int) -> list[EventRow]:
    """The `limit` most recent events, newest first."""
    rows = [event_row(e, now) for e in events]
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(rows, key=lambda r: r.last_seen or oldest, reverse=True)[:limit]


@dataclass(frozen=True)
class RolloutRow:
    """A Deployment's progress: during an upgrade, `updated` climbs to `desired`."""

    name: str
    desired: int
    updated: int
    ready: int
    available: int
    complete: bool


def rollout_row(deployment: dict) -> RolloutRow:
    spec, status = deployment.get("spec", {}), deployment.get("status", {})
    desired = spec.get("replicas", 1)
    updated, ready = status.get("updatedReplicas", 0), status.get("readyReplicas", 0)
    return RolloutRow(
        name=deployment.get("metadata", {}).get("name", ""),
        desired=desired, updated=updated, ready=ready, available=status.get("availableReplicas", 0),
        complete=(
            updated == desired and ready == desired and status.get("replicas", 0) == desired
            and status.get("observedGeneration", 0) >= deployment.get("metadata", {}).get("generation", 0)
        ),
    )


@dataclass(frozen=True)
class ServiceRow:
    name: str
    type: str
    cluster_ip: str
    ports: str  # "6443→31234/TCP"


def service_row(service: dict) -> ServiceRow:
    spec = service.get("spec", {})
    ports = ", ".join(
        f"{p.get('port')}" + (f"→{p['nodePort']}" if p.get("nodePort") else "") + f"/{p.get('protocol', 'TCP')}"
        for p in spec.get("ports", [])
    )
    return ServiceRow(name=service.get("metadata", {}).get("name", ""), type=spec.get("type", "ClusterIP"),
                      cluster_ip=spec.get("clusterIP", ""), ports=ports)
