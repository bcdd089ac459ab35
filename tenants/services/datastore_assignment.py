"""Choosing the datastore for a tenant that has none."""

from django.db import connection, transaction
from django.db.models import Count, F

from datastores.models import DataStore
from tenants.models import TenantControlPlane


class NoDatastoreAvailable(Exception):
    """Every enabled datastore is full or unhealthy (or there is none). The message says which."""


def assign_datastore(tenant) -> DataStore:
    """Give `tenant` a datastore if it has none, and return its datastore.

    Picks an enabled datastore that is not known to be unhealthy and has room (`max_tenants`),
    preferring `is_default`, then the least loaded. The candidates are locked while counting, so two
    concurrent assignments cannot both take the last place. Assignment is not a spec change: the
    tenant's generation is not bumped.
    """
    with transaction.atomic():
        if connection.vendor == "sqlite":
            # SQLite ignores FOR UPDATE; a write as the transaction's first statement takes its database
            # write lock instead, which queues concurrent assignments the same way.
            DataStore.objects.filter(enabled=True).update(updated_at=F("updated_at"))
        candidates = list(DataStore.objects.select_for_update().filter(enabled=True).exclude(healthy=False))
        current = TenantControlPlane.objects.select_for_update().filter(pk=tenant.pk).values_list(
            "datastore_id", flat=True).first()
        if current is not None:
            tenant.datastore = DataStore.objects.get(pk=current)
            return tenant.datastore
        counts = dict(
            TenantControlPlane.objects.filter(datastore__in=candidates).order_by().values_list("datastore")
            .annotate(n=Count("pk")).values_list("datastore", "n")
        )
        with_room = [ds for ds in candidates if ds.max_tenants is None or counts.get(ds.pk, 0) < ds.max_tenants]
        if not with_room:
            raise NoDatastoreAvailable(_why_none(candidates))
        chosen = min(with_room, key=lambda ds: (not ds.is_default, counts.get(ds.pk, 0), ds.name))
        TenantControlPlane.objects.filter(pk=tenant.pk).update(datastore=chosen)
    tenant.datastore = chosen
    if hasattr(tenant, "_loaded_spec"):
        tenant._loaded_spec = tenant.spec_snapshot()  # so a later save() does not count this as a spec change
    return chosen


def _why_none(candidates: list[DataStore]) -> str:
    if not candidates:
        return "No datastore is enabled and healthy: an operator must register or enable one."
    return "Every enabled datastore is full (" + ", ".join(f"{ds.name}: {ds.max_tenants}" for ds in candidates) + ")."
