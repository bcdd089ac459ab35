"""Validation rules for a tenant control plane's spec: the one set used by forms, API and models.

Each function raises django.core.exceptions.ValidationError with a message a person can act on.

The patterns below are written once, in the common subset of Python's and ECMA-262's regular
expressions: the validators match them in full (re.fullmatch: Python's `$` would let a trailing
newline through), and the OpenAPI schema publishes them anchored (`@documents`).
"""

import ipaddress
import re

from django.conf import settings
from django.core.exceptions import ValidationError

from kamaji_ui.openapi_constraints import documents

DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS_SUBDOMAIN = rf"(?=.{{1,253}}$){DNS_LABEL}(\.{DNS_LABEL})*"
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
IPV4 = rf"{_OCTET}(\.{_OCTET}){{3}}"
# Loose on purpose (ipaddress has the last word): hex groups and colons, an IPv4 tail allowed.
IPV6 = r"[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){1,7}(:" + IPV4 + r")?"
# A network of at least 256 addresses: /0-/24 for IPv4, /0-/120 for IPv6.
CIDR = rf"({IPV4}/(2[0-4]|1?[0-9])|{IPV6}/(120|1[01][0-9]|[1-9]?[0-9]))"
SAN = rf"({IPV4}|{IPV6}|(\*\.)?{DNS_SUBDOMAIN})"
SAN_MAX = 255  # "*." and a 253-character name
NAME_MAX = 40  # leaves room for the namespace and object name prefixes (63 chars in all)


def anchored(pattern: str) -> str:
    return f"^{pattern}$"


@documents(type="string", minLength=1, maxLength=NAME_MAX, pattern=anchored(DNS_LABEL))
def validate_cluster_name(value: str) -> None:
    if not value:
        raise ValidationError("Give the cluster a name.")
    if len(value) > NAME_MAX:
        raise ValidationError(f"At most {NAME_MAX} characters (this has {len(value)}).")
    if not re.fullmatch(DNS_LABEL, value):
        raise ValidationError(
            "Use lower-case letters, digits and '-', starting and ending with a letter or digit "
            "(a DNS-1123 label, as Kubernetes requires)."
        )


@documents(type="string", enum=lambda: list(settings.KUBERNETES_VERSIONS))
def validate_kubernetes_version(value: str) -> None:
    if value not in settings.KUBERNETES_VERSIONS:
        raise ValidationError(
            f"Version {value!r} is not supported; choose one of {', '.join(settings.KUBERNETES_VERSIONS)}."
        )


def parse_cidr(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValidationError(f"{value!r} is not a network in CIDR notation (e.g. 10.96.0.0/16): {exc}.") from exc


@documents(type="string", pattern=anchored(f"({IPV4}|{IPV6})"))
def validate_ip_address(value: str) -> None:
    """An IPv4 or IPv6 address, written plainly (no zone index, no surrounding space)."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise ValidationError(f"{value!r} is not an IP address.") from None
    if not re.fullmatch(f"({IPV4}|{IPV6})", value):
        raise ValidationError(f"{value!r} is not an IP address.")


@documents(type="string", pattern=anchored(CIDR))
def validate_cidr(value: str) -> None:
    net = parse_cidr(value)
    if net.num_addresses < 256:
        raise ValidationError(f"{value} is too small; use a /24 or larger.")
    if not re.fullmatch(CIDR, value):  # ipaddress also takes netmasks ("/255.255.0.0") and "/016"
        raise ValidationError(f"Write {value!r} as address/prefix-length (e.g. 10.96.0.0/16).")


def validate_san(value: str) -> None:
    """A certificate SAN: an IP address or a DNS name (a leading '*.' wildcard is allowed)."""
    if len(value) > SAN_MAX or not re.fullmatch(SAN, value):
        raise ValidationError(f"{value!r} is neither an IP address nor a valid DNS name.")
    try:
        ipaddress.ip_address(value)
        return
    except ValueError:
        pass
    name = value[2:] if value.startswith("*.") else value
    if not re.fullmatch(DNS_SUBDOMAIN, name):
        raise ValidationError(f"{value!r} is neither an IP address nor a valid DNS name.")


@documents(type="array", items={"type": "string", "maxLength": SAN_MAX, "pattern": anchored(SAN)})
def validate_sans(values: list) -> None:
    if not isinstance(values, list):
        raise ValidationError("Give a list of DNS names or IP addresses.")
    errors = []
    for v in values:
        if not isinstance(v, str):
            errors.append(f"{v!r} is not text.")
            continue
        try:
            validate_san(v)
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError(errors)


def validate_networks(*, pod_cidr: str, service_cidr: str, dns_service_ip: str) -> dict[str, str]:
    """Cross-field rules. Returns {field: message} for what is wrong (empty when all is fine)."""
    errors: dict[str, str] = {}
    try:
        pods = parse_cidr(pod_cidr)
    except ValidationError as exc:
        errors["pod_cidr"] = exc.messages[0]
        pods = None
    try:
        services = parse_cidr(service_cidr)
    except ValidationError as exc:
        errors["service_cidr"] = exc.messages[0]
        services = None
    if pods and services:
        if pods.version != services.version:
            errors["service_cidr"] = "Pod and service networks must be the same IP family."
        elif pods.overlaps(services):
            errors["service_cidr"] = f"The service network {services} overlaps the pod network {pods}."
    if services and dns_service_ip:
        try:
            ip = ipaddress.ip_address(dns_service_ip)
        except ValueError:
            errors["dns_service_ip"] = f"{dns_service_ip!r} is not an IP address."
        else:
            if ip not in services:
                errors["dns_service_ip"] = f"The DNS service IP must lie inside the service network {services}."
            elif ip == services.network_address or ip == services.network_address + 1:
                errors["dns_service_ip"] = "The first two addresses of the service network are reserved."
    return errors
