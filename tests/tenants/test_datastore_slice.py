"""The datastore connection as stored in the tenant's Secret, and how pods are wired to it (pure)."""

from datastores.drivers import TenantConnection
from tenants.models import TenantControlPlane
from tenants.services import datastore_slice
from tenants.services.manifests.deployment import apiserver_args

ETCD = TenantConnection(driver="etcd", endpoints=["https://10.212.0.1:23790"], prefix="/kamaji-ui/u1",
                        ca_pem="CA", client_cert_pem="CERT", client_key_pem="KEY", username="kui-u1", password="pw")


def test_etcd_connection_round_trips_through_the_secret_and_wires_tls():
    data = datastore_slice.secret_data_for(ETCD, "etcd")
    assert "kine-endpoint" not in data
    assert datastore_slice.connection_from(data) == ETCD
    wiring = datastore_slice.wiring_from(data)
    assert wiring.endpoints == ("https://10.212.0.1:23790",) and wiring.prefix == "/kamaji-ui/u1"
    assert wiring.tls and not wiring.uses_kine


def test_nothing_stored_means_no_current_connection():
    assert datastore_slice.connection_from({}) is None


def test_sql_slices_go_through_kine_with_the_dsn_in_the_secret():
    dsn = TenantConnection(driver="postgresql", endpoints=["postgres://u:p@10.212.0.1:5432/kui_1"], prefix="/")
    assert datastore_slice.secret_data_for(dsn, "postgresql")["kine-endpoint"] == dsn.endpoints[0]
    bare = TenantConnection(driver="mysql", endpoints=["10.212.0.1:3306"], prefix="kui_1", username="u",
                            password="p@ss")
    assert datastore_slice.kine_endpoint(bare, "mysql") == "mysql://u:p%40ss@10.212.0.1:3306/kui_1"
    assert datastore_slice.wiring_from(datastore_slice.secret_data_for(bare, "mysql")).uses_kine


def test_an_empty_prefix_is_kept_and_leaves_the_apiserver_default():
    dsn = TenantConnection(driver="postgresql", endpoints=["postgres://u:p@10.212.0.1:5432/kui_1"], prefix="")
    data = datastore_slice.secret_data_for(dsn, "postgresql")
    assert data["prefix"] == ""
    args = apiserver_args(TenantControlPlane(name="x"), datastore_slice.wiring_from(data))
    assert not any(a.startswith("--etcd-prefix") for a in args)
    assert "--etcd-servers=http://127.0.0.1:2379" in args
