"""Real datastore servers for the tests: started once per test run (or reused if already up).

Servers this run started are stopped at its end; servers that were already running are left alone.
Other test packages can use the same servers through `localcluster.datastore_servers.start(name)`.
"""

import pytest

from datastores.drivers import driver_for
from datastores.models import DataStore
from datastores.services.registration import register_local_datastores
from localcluster import datastore_servers
from tests.factories import make_org, make_tenant


def _running(name: str):
    was_running = datastore_servers.pid_of(name) is not None
    datastore_servers.start(name)
    yield name
    if not was_running:
        datastore_servers.stop(name)


@pytest.fixture(scope="session")
def etcd_server():
    yield from _running("etcd")


@pytest.fixture(scope="session")
def postgresql_server():
    yield from _running("postgresql")


@pytest.fixture(scope="session")
def mysql_server():
    yield from _running("mysql")


@pytest.fixture(scope="session")
def nats_server():
    yield from _running("nats")


@pytest.fixture(scope="session")
def redis_server():
    """The Redis URL (loopback) for channels-redis tests."""
    for _ in _running("redis"):
        yield datastore_servers.REDIS_URL


@pytest.fixture
def local_datastores(db) -> dict[str, DataStore]:
    """The local servers registered as DataStore rows, by driver."""
    return {ds.driver: ds for ds in register_local_datastores()}


@pytest.fixture
def etcd_datastore(etcd_server, local_datastores) -> DataStore:
    return local_datastores["etcd"]


@pytest.fixture
def postgresql_datastore(postgresql_server, local_datastores) -> DataStore:
    return local_datastores["postgresql"]


@pytest.fixture
def mysql_datastore(mysql_server, local_datastores) -> DataStore:
    return local_datastores["mysql"]


@pytest.fixture
def new_tenant(db):
    """new_tenant(datastore) -> a tenant row on `datastore`; its slice is deprovisioned after the test."""
    made = []
    org = make_org()

    def make(datastore: DataStore | None = None):
        tenant = make_tenant(org=org, datastore=datastore)
        made.append(tenant)
        return tenant

    yield make
    for tenant in made:
        if tenant.datastore is not None and tenant.datastore.driver != "nats":
            driver_for(tenant.datastore).deprovision(tenant)
