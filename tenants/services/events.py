"""Kubernetes Events on the objects the controller touches (what `kubectl describe` shows)."""

import logging
from datetime import UTC, datetime

from kubernetes.client.exceptions import ApiException

from tenants.services.kube import Kube
from tenants.services.manifests.labels import MANAGED_BY, MANAGED_BY_KEY

log = logging.getLogger(__name__)
COMPONENT = "kamaji-ui-controller"


def build_event(involved: dict, *, reason: str, message: str, type_: str = "Normal",
                now: datetime | None = None) -> dict:
    meta = involved["metadata"]
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"],
                     "labels": {MANAGED_BY_KEY: MANAGED_BY}},
        "involvedObject": {
            "apiVersion": involved["apiVersion"], "kind": involved["kind"], "name": meta["name"],
            "namespace": meta["namespace"], "uid": meta.get("uid", ""),
        },
        "reason": reason, "message": message[:1024], "type": type_,
        "source": {"component": COMPONENT}, "reportingComponent": COMPONENT,
        "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1,
    }


def record_event(kube: Kube, involved: dict, *, reason: str, message: str, type_: str = "Normal") -> None:
    """Best effort: an event that cannot be written never fails a reconcile."""
    try:
        kube.create(build_event(involved, reason=reason, message=message, type_=type_))
    except ApiException as exc:
        log.info("event %s on %s not recorded: %s", reason, involved["metadata"]["name"], exc.status)
