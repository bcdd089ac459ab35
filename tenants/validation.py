"""Validation rules for a tenant control plane's spec: the one set used by forms, API and models.

Each function raises django.core.exceptions.ValidationError with a message a person can act on.
"""

import ipaddress
import re

from django.conf import settings
from django.core.exceptions import ValidationError

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
NAME_MAX = 40  # leaves room for the namespace and object name prefixes (63 chars in all)


def validate_cluster_name(value: str) -> None:
    if not value:
        raise ValidationError("Give the cluster a name.")
    if len(value) > NAME_MAX:
        raise ValidationError(f"At most {NAME_MAX} characters (this has {len(value)}).")
    if not DNS_LABEL.match(value):
        raise ValidationError(
            "Use lower-case letters, digits and '-', starting and ending with a letter or digit "
            "(a DNS-1123 label, as Kubernetes requires)."
        )


def validate_kubernetes_version(value: str) -> None:
    if value not in settings.KUBERNETES_VERSIONS:
        raise ValidationError(
            f"Version {value!r} is not supported; choose one of {', '.join(settings.KUBERNETES_VERSIONS)}."
        )


def parse_cidr(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(value.strip(), strict=True)
    except ValueError as exc:
        raise ValidationError(f"{value!r} is not a network in CIDR notation (e.g. 10.96.0.0/16): {exc}.") from exc


def validate_cidr(value: str) -> None:
    net = parse_cidr(value)
    if net.num_addresses < 256:
        raise ValidationError(f"{value} is too small; use a /24 or larger.")


def validate_san(value: str) -> None:
    """A certificate SAN: an IP address or a DNS name (a leading '*.' wildcard is allowed)."""
    try:
        ipaddress.ip_address(value)
        return
    except ValueError:
        pass
    name = value[2:] if value.startswith("*.") else value
    if not DNS_SUBDOMAIN.match(name):
        raise ValidationError(f"{value!r} is neither an IP address nor a valid DNS name.")


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
