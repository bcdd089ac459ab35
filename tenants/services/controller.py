"""The controller: a long-running worker that reconciles tenants, one leader at a time.

Work arrives from four sources, all folded into one schedule keyed by tenant pk (so a burst of
events is one reconcile): the in-process queue filled after a DB commit (`queue.reconcile_soon`),
the process's informers on every kind the product owns (`tenants.informers`: a deleted or edited
Secret, ConfigMap, Service, Deployment, PDB or Namespace, a pod changing; held while leading), a
poll of the database for rows whose spec moved on (for a controller running in its own process),
and a periodic resync of all.
Failures back off exponentially per tenant; `RetryLater` waits as long as it asks.

Entry points: `Controller().run(stop_event)` (the loop; `manage.py controller`, or a thread of
the server in the embedded default), `Controller().run_until_settled(pk)` (tests, tools).
"""

import heapq
import logging
import os
import random
import socket
import threading
import time
import uuid

from django.conf import settings
from django.db import close_old_connections, connection

from datastores.services.health import run_health_checks
from tenants import informers
from tenants.models import Phase, TenantControlPlane
from tenants.services import queue
from tenants.services.kube import Kube, management
from tenants.services.leader import RENEW_SECONDS, LeaderElector
from tenants.services.reconcile import Outcome, reconcile_tenant

log = logging.getLogger(__name__)

MAX_BACKOFF = 60.0
EVENT_DELAY = 0.5  # coalesce a burst of watch events into one reconcile
POLL_SECONDS = 2.0


def backoff_seconds(failures: int) -> float:
    """1, 2, 4, ... 60 s, with jitter so that many failing tenants do not retry in lockstep."""
    return min(MAX_BACKOFF, 2.0 ** max(0, failures - 1)) * random.uniform(0.8, 1.2)


def _fresh_connection() -> None:
    # A long-lived worker must not hold a broken or stale DB connection; a caller's open
    # transaction (tests, a management shell) is left alone.
    if not connection.in_atomic_block:
        close_old_connections()


def _phase_of(pk: int) -> str | None:
    try:
        return TenantControlPlane.objects.filter(pk=pk).values_list("phase", flat=True).first()
    except Exception:  # the database may be what failed; the phase is only for reporting
        return None


class Schedule:
    """pk -> when it is due; scheduling an earlier time wins, a later one is ignored."""

    def __init__(self):
        self._lock = threading.Condition()
        self._due: dict[int, float] = {}
        self._heap: list[tuple[float, int]] = []
        self._running: set[int] = set()
        self._again: set[int] = set()  # asked for while running: run once more right after

    def add(self, pk: int, delay: float = 0.0) -> None:
        with self._lock:
            if pk in self._running:
                if delay <= EVENT_DELAY:
                    self._again.add(pk)
                return
            when = time.monotonic() + delay
            if pk in self._due and self._due[pk] <= when:
                return
            self._due[pk] = when
            heapq.heappush(self._heap, (when, pk))
            self._lock.notify()

    def is_scheduled(self, pk: int) -> bool:
        with self._lock:
            return pk in self._due or pk in self._running

    def take(self, timeout: float) -> int | None:
        """The next due pk (marked running), or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                now = time.monotonic()
                while self._heap and self._due.get(self._heap[0][1]) != self._heap[0][0]:
                    heapq.heappop(self._heap)  # superseded entry
                if self._heap and self._heap[0][0] <= now:
                    _, pk = heapq.heappop(self._heap)
                    del self._due[pk]
                    self._running.add(pk)
                    return pk
                wait = min(deadline, self._heap[0][0] if self._heap else deadline) - now
                if now >= deadline:
                    return None
                self._lock.wait(max(0.01, wait))

    def done(self, pk: int, requeue_after: float | None) -> None:
        with self._lock:
            self._running.discard(pk)
            again = pk in self._again
            self._again.discard(pk)
        if again:
            self.add(pk, EVENT_DELAY)
        elif requeue_after is not None:
            self.add(pk, requeue_after)


class Controller:
    def __init__(self, *, kube: Kube | None = None, identity: str | None = None, workers: int = 2,
                 resync_seconds: float | None = None, poll_seconds: float = POLL_SECONDS):
        self.kube = kube or management()
        self.identity = identity or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.workers = workers
        self.resync_seconds = resync_seconds or settings.CONTROLLER_RESYNC_SECONDS
        self.poll_seconds = poll_seconds
        self.schedule = Schedule()
        self.failures: dict[int, int] = {}
        self.leading = threading.Event()
        self.elector = LeaderElector(self.kube, identity=self.identity)

    # --- one tenant -----------------------------------------------------------------------------

    def run_once(self, pk: int) -> Outcome:
        """Reconcile `pk` once; errors become a backoff. Returns when to come back."""
        _fresh_connection()
        try:
            outcome = reconcile_tenant(pk, kube=self.kube)
        except Exception:
            self.failures[pk] = self.failures.get(pk, 0) + 1
            delay = backoff_seconds(self.failures[pk])
            log.exception("reconcile of tenant %s failed (attempt %s); retry in %.1fs", pk, self.failures[pk], delay)
            return Outcome(delay, _phase_of(pk))
        finally:
            _fresh_connection()
        self.failures.pop(pk, None)
        if outcome.phase == Phase.FAILED:
            return Outcome(MAX_BACKOFF, outcome.phase)
        return outcome

    def run_until_settled(self, pk: int, *, timeout: float = 300.0) -> Outcome:
        """Reconcile `pk` until nothing is left to wait for (Ready, gone, or Failed), or time out."""
        deadline = time.monotonic() + timeout
        while True:
            outcome = self.run_once(pk)
            if outcome.requeue_after is None or outcome.phase == Phase.FAILED:
                return outcome
            if time.monotonic() + outcome.requeue_after > deadline:
                raise TimeoutError(f"tenant {pk} not settled after {timeout:.0f}s (phase {outcome.phase})")
            time.sleep(outcome.requeue_after)

    # --- the loop -------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Run until `stop` is set: elect, watch, poll, resync, reconcile."""
        threads = [
            threading.Thread(target=self._elect, args=(stop,), name="kui-leader", daemon=True),
            threading.Thread(target=self._feed_from_queue, args=(stop,), name="kui-queue", daemon=True),
            threading.Thread(target=self._poll, args=(stop,), name="kui-poll", daemon=True),
            threading.Thread(target=run_health_checks, args=(stop, self.leading), name="kui-ds-health", daemon=True),
            threading.Thread(target=self._follow_cluster, args=(stop,), name="kui-informers", daemon=True),
            *(threading.Thread(target=self._work, args=(stop,), name=f"kui-worker-{i}", daemon=True)
              for i in range(self.workers)),
        ]
        for t in threads:
            t.start()
        log.info("controller %s started (%d workers)", self.identity, self.workers)
        stop.wait()
        # The elector first, so no renewal can follow the release; then hand the Lease back at once,
        # before waiting on workers that may be mid-reconcile (reconcile is idempotent either way).
        threads[0].join(timeout=RENEW_SECONDS + 5)
        self.elector.release()
        for t in threads[1:]:
            t.join(timeout=5)
        log.info("controller %s stopped", self.identity)

    def _elect(self, stop: threading.Event) -> None:
        while not stop.is_set():
            was_leading = self.leading.is_set()
            if self.elector.try_acquire_or_renew():
                if not was_leading:
                    self.leading.set()
                    self.resync()  # a new leader looks at everything once
            elif was_leading:
                log.warning("controller %s lost the lease", self.identity)
                self.leading.clear()
            stop.wait(RENEW_SECONDS)
        self.leading.clear()

    def resync(self) -> None:
        _fresh_connection()
        for pk in TenantControlPlane.objects.values_list("pk", flat=True):
            self.schedule.add(pk)

    def _poll(self, stop: threading.Event) -> None:
        """The database as a source of work: spec changes and deletions made by another process."""
        last_resync = time.monotonic()
        while not stop.wait(self.poll_seconds):
            if not self.leading.is_set():
                continue
            try:
                _fresh_connection()
                if time.monotonic() - last_resync >= self.resync_seconds:
                    last_resync = time.monotonic()
                    self.resync()
                    continue
                for pk, generation, observed, phase in TenantControlPlane.objects.values_list(
                    "pk", "generation", "observed_generation", "phase"
                ):
                    if (generation != observed or phase in (Phase.PENDING, Phase.DELETING)) and not (
                        self.schedule.is_scheduled(pk)
                    ):
                        self.schedule.add(pk)
            except Exception:
                log.exception("controller poll failed")

    def _feed_from_queue(self, stop: threading.Event) -> None:
        while not stop.is_set():
            pk = queue.next_key(timeout=1.0)
            if pk is not None:
                self.schedule.add(pk)

    def _follow_cluster(self, stop: threading.Event) -> None:
        """While leading, hold the process's informers: an owned object changing triggers its tenant."""
        name = f"controller-{self.identity}"
        informers.subscribe(name, kinds=informers.CONTROLLER_KINDS, on_change=self._object_changed)
        try:
            while not stop.is_set():
                if not self.leading.wait(timeout=1.0):
                    continue
                try:
                    informers.hold(name, api_client=self.kube.api_client)
                except Exception:  # no cluster configured yet: the poll and resync still work
                    log.exception("controller: cannot start the informers")
                    stop.wait(5.0)
                    continue
                while self.leading.is_set() and not stop.is_set():
                    stop.wait(1.0)
                informers.release(name)
        finally:
            informers.release(name)
            informers.unsubscribe(name)

    def _object_changed(self, pk: int, kind: str, received_at: float) -> None:
        if self.leading.is_set():
            self.schedule.add(pk, EVENT_DELAY)

    def _work(self, stop: threading.Event) -> None:
        while not stop.is_set():
            if not self.leading.wait(timeout=1.0):
                continue
            pk = self.schedule.take(timeout=1.0)
            if pk is None:
                continue
            outcome = Outcome(None)
            try:
                if self.leading.is_set():
                    outcome = self.run_once(pk)
            except Exception:  # a worker thread must outlive anything one tenant does
                log.exception("worker: tenant %s", pk)
                outcome = Outcome(MAX_BACKOFF)
            finally:
                self.schedule.done(pk, outcome.requeue_after)


def start_in_background(*, kube: Kube | None = None) -> tuple[Controller, threading.Event]:
    """The embedded default: the controller as daemon threads of the server process."""
    controller = Controller(kube=kube)
    stop = threading.Event()
    threading.Thread(target=controller.run, args=(stop,), name="kui-controller", daemon=True).start()
    return controller, stop
