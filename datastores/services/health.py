"""Checking a datastore and writing what was found onto it."""

from django.utils import timezone

from datastores.drivers import DriverError, driver_for
from datastores.models import DataStore


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
