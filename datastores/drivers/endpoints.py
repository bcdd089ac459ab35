"""Reading a datastore endpoint ("host:port", "[v6]:port" or a URL) into host and port."""

from urllib.parse import urlsplit

from datastores.drivers.base import DriverError


def host_port(endpoint: str, *, default_port: int) -> tuple[str, int]:
    """`endpoint` as (host, port); `default_port` when it names none."""
    parts = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}")
    try:
        port = parts.port or default_port
    except ValueError as exc:
        raise DriverError(f"bad port in datastore endpoint {endpoint!r}") from exc
    if not parts.hostname:
        raise DriverError(f"no host in datastore endpoint {endpoint!r}")
    return parts.hostname, port


def first_endpoint(datastore, *, default_port: int) -> tuple[str, int]:
    if not datastore.endpoints:
        raise DriverError(f"datastore {datastore.name} has no endpoints")
    return host_port(datastore.endpoints[0], default_port=default_port)
