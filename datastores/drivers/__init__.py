"""Datastore drivers behind one interface (base.Driver): `driver_for(datastore).provision(tenant)`."""

from datastores.drivers.base import Driver, DriverError, TenantConnection
from datastores.drivers.etcd import EtcdDriver
from datastores.drivers.mysql import MySQLDriver
from datastores.drivers.nats import NATSDriver
from datastores.drivers.postgresql import PostgreSQLDriver

DRIVERS: dict[str, type[Driver]] = {
    "etcd": EtcdDriver,
    "postgresql": PostgreSQLDriver,
    "mysql": MySQLDriver,
    "nats": NATSDriver,
}


def driver_for(datastore) -> Driver:
    """The driver for `datastore` (a DataStore row)."""
    try:
        return DRIVERS[datastore.driver](datastore)
    except KeyError:
        raise DriverError(f"datastore {datastore.name}: unknown driver {datastore.driver!r}") from None


__all__ = ["DRIVERS", "Driver", "DriverError", "TenantConnection", "driver_for"]
