"""Leader election on a coordination.k8s.io Lease: only one controller reconciles at a time.

The holder renews the Lease every RENEW_SECONDS; anyone may take it over once it has not been
renewed for LEASE_SECONDS. Updates carry the resourceVersion read, so two candidates racing for
an expired Lease cannot both win (the loser gets 409 Conflict).
"""

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from kubernetes.client.exceptions import ApiException

from tenants.services.kube import Kube, is_conflict

log = logging.getLogger(__name__)

LEASE_NAME = "kamaji-ui-controller"
LEASE_SECONDS = 15
RENEW_SECONDS = 5


def micro_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_micro_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def lease_expired(spec: dict, *, now: datetime) -> bool:
    renewed = parse_micro_time(spec.get("renewTime") or spec.get("acquireTime"))
    duration = timedelta(seconds=spec.get("leaseDurationSeconds") or LEASE_SECONDS)
    return renewed is None or renewed + duration < now


class LeaderElector:
    def __init__(self, kube: Kube, *, identity: str, namespace: str | None = None, name: str = LEASE_NAME,
                 lease_seconds: int = LEASE_SECONDS):
        self.kube, self.identity, self.name = kube, identity, name
        self.namespace = namespace or settings.CONTROLLER_LEASE_NAMESPACE
        self.lease_seconds = lease_seconds

    def _lease(self, spec: dict, metadata: dict | None = None) -> dict:
        meta = {"name": self.name, "namespace": self.namespace, **(metadata or {})}
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta, "spec": spec}

    def try_acquire_or_renew(self) -> bool:
        """One attempt; True while this process holds the Lease."""
        now = datetime.now(UTC)
        try:
            lease = self.kube.get("Lease", self.name, self.namespace)
            if lease is None:
                self.kube.create(self._lease({
                    "holderIdentity": self.identity, "leaseDurationSeconds": self.lease_seconds,
                    "acquireTime": micro_time(now), "renewTime": micro_time(now), "leaseTransitions": 0,
                }))
                log.info("controller %s acquired the lease (new)", self.identity)
                return True
            spec = lease.get("spec") or {}
            holder = spec.get("holderIdentity")
            if holder != self.identity and holder and not lease_expired(spec, now=now):
                return False
            new_spec = {**spec, "holderIdentity": self.identity, "leaseDurationSeconds": self.lease_seconds,
                        "renewTime": micro_time(now)}
            if holder != self.identity:
                new_spec["acquireTime"] = micro_time(now)
                new_spec["leaseTransitions"] = (spec.get("leaseTransitions") or 0) + 1
            self.kube.replace(self._lease(new_spec, {"resourceVersion": lease["metadata"]["resourceVersion"]}))
            if holder != self.identity:
                log.info("controller %s took over the lease from %s", self.identity, holder or "nobody")
            return True
        except ApiException as exc:
            if not is_conflict(exc):
                log.warning("lease %s/%s: %s %s", self.namespace, self.name, exc.status, exc.reason)
            return False

    def release(self) -> None:
        """Give the Lease up at a clean shutdown so a standby takes over at once."""
        try:
            lease = self.kube.get("Lease", self.name, self.namespace)
            if lease and (lease.get("spec") or {}).get("holderIdentity") == self.identity:
                spec = {**lease["spec"], "holderIdentity": None, "renewTime": None}
                self.kube.replace(self._lease(spec, {"resourceVersion": lease["metadata"]["resourceVersion"]}))
        except ApiException as exc:
            log.info("lease release: %s", exc.status)

    def holder(self) -> str | None:
        lease = self.kube.get("Lease", self.name, self.namespace)
        return (lease or {}).get("spec", {}).get("holderIdentity")
