"""Checking a datastore and writing what was found onto it; and the loop that does it periodically."""

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from datastores.drivers import DriverError, driver_for
from datastores.models import DataStore

log = logging.getLogger(__name__)


def check_health(datastore: DataStore) -> tuple[bool, str]:
    """Ask the datastore's driver, store healthy / health_message / health_checked_at, and return the result."""
    try:
        healthy, message = driver_for(datastore).health()
    except DriverError as exc:
        healthy, message = False, str(exc)
    datastore.healthy, datastore.health_message, datastore.health_checked_at = healthy, message, timezone.now()
    datastore.save(update_fields=["healthy", "health_message", "health_checked_at", "updated_at"])
    return healthy, message


def check_all() -> dict[str, tuple[bool, str]]:
    """Check every datastore (enabled or not): name -> (healthy, message)."""
    return {ds.name: check_health(ds) for ds in DataStore.objects.all()}


def run_health_checks(stop: threading.Event, leading: threading.Event, *, interval: float | None = None) -> None:
    """Check every datastore each `interval` seconds (settings.DATASTORE_HEALTH_SECONDS) while `leading`
    is set, until `stop` is set: one checker for the fleet, in the leading controller.

    One datastore's failure (or a database hiccup) is logged and the loop goes on.
    """
    interval = settings.DATASTORE_HEALTH_SECONDS if interval is None else interval
    while not stop.is_set():
        if leading.is_set():
            if not connection.in_atomic_block:  # a long-lived thread must not keep a broken connection
                close_old_connections()
            try:
                datastores = list(DataStore.objects.all())
            except Exception:
                log.exception("datastore health: cannot read the datastores")
                datastores = []
            for datastore in datastores:
                if stop.is_set() or not leading.is_set():
                    break
                try:
                    check_health(datastore)
                except Exception:
                    log.exception("datastore health: checking %s failed", datastore.name)
        stop.wait(interval)
