"""NATS JetStream (through kine): reachable and health-checked, but tenants cannot be provisioned on it yet."""

import socket

from datastores.drivers.base import Driver, DriverError, TenantConnection
from datastores.drivers.endpoints import first_endpoint

DEFAULT_PORT = 4222

NOT_SUPPORTED = "NATS datastores cannot hold tenants yet: choose an etcd, PostgreSQL or MySQL datastore"


class NATSDriver(Driver):
    def provision(self, tenant, *, current: TenantConnection | None = None) -> TenantConnection:
        raise DriverError(NOT_SUPPORTED)

    def deprovision(self, tenant) -> None:
        raise DriverError(NOT_SUPPORTED)

    def health(self) -> tuple[bool, str]:
        """The server greets every client with an INFO line before any login."""
        try:
            host, port = first_endpoint(self.datastore, default_port=DEFAULT_PORT)
            with socket.create_connection((host, port), timeout=5) as s:
                greeting = s.recv(4096)
        except (OSError, DriverError) as exc:
            return False, f"NATS: {exc}"
        if not greeting.startswith(b"INFO "):
            return False, "NATS: unexpected greeting"
        return True, "NATS server answers (tenants not supported yet)"

    def usage(self, tenant) -> int:
        raise DriverError(NOT_SUPPORTED)
