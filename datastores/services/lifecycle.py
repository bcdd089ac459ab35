"""Registering, changing and removing datastores: the console form and the API both come here, so both
write the same audit record."""

from collections.abc import Iterable

from django.db import transaction

from audit import log as audit
from datastores.models import DataStore


def datastore_audit_fields(changed: Iterable[str]) -> dict:
    """What the audit log keeps of a change: the names of the fields changed (secrets too), never a value."""
    return {"changed": sorted(set(changed))}


@transaction.atomic
def datastore_save(*, datastore: DataStore, changed: Iterable[str], by, request=None) -> DataStore:
    """Save a datastore that a form or serializer has filled in and validated; `changed` names what changed."""
    action = "datastore.update" if datastore.pk else "datastore.create"
    datastore.save()
    audit.record(by, action, datastore, request=request, **datastore_audit_fields(changed))
    return datastore


def datastore_delete(*, datastore: DataStore, by, request=None) -> None:
    """Remove a datastore; one that still holds clusters raises ProtectedError (the API answers 409)."""
    audit.record(by, "datastore.delete", datastore, request=request)
    datastore.delete()
