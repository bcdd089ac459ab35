"""Registering the local datastore servers as DataStore rows, and checking them all."""

import pytest

from datastores.models import DataStore
from datastores.services.health import check_all
from datastores.services.registration import register_local_datastores

pytestmark = [pytest.mark.datastores, pytest.mark.django_db]


def test_registration_is_idempotent_and_keeps_operator_choices():
    first = {ds.name: ds for ds in register_local_datastores()}
    assert set(first) == {"local-etcd", "local-postgresql", "local-mysql", "local-nats"}
    etcd = first["local-etcd"]
    assert etcd.is_default and etcd.enabled and etcd.username == "root" and etcd.ca_key and etcd.password
    assert etcd.endpoints == ["https://10.212.0.1:23790"]
    assert not first["local-nats"].enabled  # its driver cannot provision tenants yet

    DataStore.objects.filter(name="local-mysql").update(enabled=False, max_tenants=7)
    again = {ds.name: ds for ds in register_local_datastores()}
    assert {n: ds.pk for n, ds in again.items()} == {n: ds.pk for n, ds in first.items()}
    mysql = DataStore.objects.get(name="local-mysql")
    assert mysql.enabled is False and mysql.max_tenants == 7


def test_every_local_datastore_is_healthy(etcd_server, postgresql_server, mysql_server, nats_server):
    register_local_datastores()
    results = check_all()
    assert all(healthy for healthy, _ in results.values()), results
    assert DataStore.objects.filter(healthy=True).count() == 4
