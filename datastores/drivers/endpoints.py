"""Reading a datastore endpoint ("host:port", "[v6]:port" or a URL) into host and port."""

import ipaddress
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


def outside_allowed_networks(endpoint: str, networks: tuple[str, ...]) -> str | None:
    """Why `endpoint` may not be used under settings.DATASTORE_ENDPOINT_NETWORKS, or None if it may.

    No networks: any endpoint. Otherwise the host must be an IP address inside one of them (or
    `localhost` when a loopback network is listed): a name could resolve anywhere.
    """
    if not networks:
        return None
    try:
        host, _ = host_port(endpoint, default_port=0)
    except DriverError as exc:
        return str(exc)
    allowed = [ipaddress.ip_network(n, strict=False) for n in networks]
    if host == "localhost":
        host = "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"{host!r} is a name; here datastores are given by IP address within {', '.join(networks)}."
    if not any(address in net for net in allowed):
        return f"{address} is outside the networks datastores may use here ({', '.join(networks)})."
    return None
