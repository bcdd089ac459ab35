"""Registering the datastore servers that `localcluster.datastore_servers` runs on this machine."""

from dataclasses import asdict

from django.db import transaction

from datastores.models import DataStore
from localcluster.datastore_servers import local_datastore_specs


@transaction.atomic
def register_local_datastores() -> list[DataStore]:
    """Create or update one DataStore row per local server (names `local-<driver>`); returns them.

    Connection details and credentials are refreshed; what operators change (enabled, default, capacity)
    is kept on rows that already exist.
    """
    rows = []
    for spec in local_datastore_specs():
        fields = asdict(spec)
        name = fields.pop("name")
        operator_choices = {k: fields.pop(k) for k in ("is_default", "enabled")}
        datastore = DataStore.objects.filter(name=name).first()
        if datastore is None:
            datastore = DataStore(name=name, **operator_choices)
        for key, value in fields.items():
            setattr(datastore, key, value)
        datastore.full_clean()
        datastore.save()
        rows.append(datastore)
    return rows
