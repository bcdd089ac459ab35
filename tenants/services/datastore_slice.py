"""The tenant's slice of its datastore: provisioned by the datastore driver, kept in a Secret.

The Secret `<name>-datastore` holds the TenantConnection the driver returned (endpoints, key
prefix, TLS client identity, credentials), so the next reconcile passes it back as `current`
and the driver can keep it instead of minting a new one; the pods mount it.
"""

from urllib.parse import quote, urlsplit

from datastores.drivers import TenantConnection, driver_for
from tenants.models import TenantControlPlane
from tenants.services.manifests.deployment import DatastoreWiring

KINE_SCHEMES = {"postgresql": "postgres", "mysql": "mysql", "nats": "nats"}


def kine_endpoint(conn: TenantConnection, driver: str) -> str:
    """kine's --endpoint DSN for a SQL/NATS slice (the password is why it lives in the Secret)."""
    first = conn.endpoints[0]
    if "://" in first:
        return first
    scheme = KINE_SCHEMES[driver]
    auth = f"{quote(conn.username, safe='')}:{quote(conn.password, safe='')}@" if conn.username else ""
    if driver == "nats":
        return f"{scheme}://{auth}{first}?bucket={quote(conn.prefix.strip('/'), safe='')}"
    return f"{scheme}://{auth}{first}/{conn.prefix.strip('/')}"


def secret_data_for(conn: TenantConnection, driver: str) -> dict[str, str]:
    data = {
        "driver": driver,
        "endpoints": ",".join(conn.endpoints),
        "prefix": conn.prefix,
        "ca.crt": conn.ca_pem or "",
        "client.crt": conn.client_cert_pem or "",
        "client.key": conn.client_key_pem or "",
        "username": conn.username or "",
        "password": conn.password or "",
    }
    if driver != "etcd":
        data["kine-endpoint"] = kine_endpoint(conn, driver)
    # The prefix may be empty (SQL: the database is the tenant's alone); the rest is left out when empty.
    return {k: v for k, v in data.items() if v or k == "prefix"}


def connection_from(data: dict[str, str]) -> TenantConnection | None:
    """The stored connection, or None when nothing (usable) is stored yet."""
    if not data.get("endpoints") or "prefix" not in data:
        return None
    return TenantConnection(
        driver=data.get("driver", ""),
        endpoints=data["endpoints"].split(","),
        prefix=data["prefix"],
        ca_pem=data.get("ca.crt", ""),
        client_cert_pem=data.get("client.crt", ""),
        client_key_pem=data.get("client.key", ""),
        username=data.get("username", ""),
        password=data.get("password", ""),
    )


def wiring_from(data: dict[str, str]) -> DatastoreWiring:
    return DatastoreWiring(
        driver=data["driver"],
        endpoints=tuple(data["endpoints"].split(",")),
        prefix=data["prefix"],
        tls=bool(data.get("client.crt") and data.get("ca.crt")) or any(
            urlsplit(e).scheme == "https" for e in data["endpoints"].split(",")
        ),
    )


def provision_slice(tenant: TenantControlPlane, stored: dict[str, str]) -> dict[str, str]:
    """Ask the driver for the tenant's slice (idempotent) and return the Secret data to store."""
    datastore = tenant.datastore
    conn = driver_for(datastore).provision(tenant, current=connection_from(stored))
    return secret_data_for(conn, datastore.driver)


def release_slice(tenant: TenantControlPlane) -> None:
    """Remove the tenant's user, role and keys from its datastore (idempotent)."""
    if tenant.datastore_id is not None:
        driver_for(tenant.datastore).deprovision(tenant)
