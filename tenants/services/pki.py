"""A tenant's PKI, kubeadm-compatible: pure functions over PEM text (no I/O).

Keys are ECDSA P-256 (fast to generate, accepted by every Kubernetes component, including the
service-account signer as ES256). `plan_pki` takes what is stored and returns what should be
stored: it keeps every valid item and re-issues only what is missing, expiring, signed by a
different CA, or (for the serving certificate) missing a SAN. Certificates are built by
kamaji_ui.x509; this module adds kubeadm's file names and key usages, the plan and the reading back.
"""

import hashlib
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from kamaji_ui import x509 as primitives
from kamaji_ui.x509 import CertKey, generate_key, key_to_pem, key_usage, load_cert, load_key, public_key_to_pem

# Names in the pki Secret, as kubeadm lays them out under /etc/kubernetes/pki.
CA_CERT, CA_KEY = "ca.crt", "ca.key"
APISERVER_CERT, APISERVER_KEY = "apiserver.crt", "apiserver.key"
KUBELET_CLIENT_CERT, KUBELET_CLIENT_KEY = "apiserver-kubelet-client.crt", "apiserver-kubelet-client.key"
FRONT_PROXY_CA_CERT, FRONT_PROXY_CA_KEY = "front-proxy-ca.crt", "front-proxy-ca.key"
FRONT_PROXY_CLIENT_CERT, FRONT_PROXY_CLIENT_KEY = "front-proxy-client.crt", "front-proxy-client.key"
SA_KEY, SA_PUB = "sa.key", "sa.pub"
FRONT_PROXY_CLIENT_CN = "front-proxy-client"

# Key usages as kubeadm sets them (keyEncipherment included, as for its RSA keys).
KUBEADM_CA_USAGE = key_usage("digital_signature", "key_encipherment", "key_cert_sign")
KUBEADM_LEAF_USAGE = key_usage("digital_signature", "key_encipherment")


@dataclass(frozen=True)
class Validity:
    now: datetime
    ca: timedelta
    leaf: timedelta
    renew_before: timedelta


def issue_ca(*, common_name: str, now: datetime, validity: timedelta) -> CertKey:
    """A self-signed CA as kubeadm makes: CN only, no path length limit, key usage for signing."""
    return primitives.create_ca(common_name=common_name, now=now, validity=validity, path_length=None,
                                usage=KUBEADM_CA_USAGE)


def issue_certificate(*, ca: CertKey, common_name: str, now: datetime, validity: timedelta, **spec) -> CertKey:
    """A kubeadm-style leaf signed by `ca`; `spec` as kamaji_ui.x509.issue_certificate (organizations,
    dns_names, ip_addresses, server, client). The validity never reaches past the CA's own expiry."""
    return primitives.issue_certificate(ca=ca, common_name=common_name, now=now, validity=validity,
                                        usage=KUBEADM_LEAF_USAGE, **spec)


def generate_service_account_keys() -> tuple[str, str]:
    """(private PEM, public PEM) for signing and verifying service-account tokens."""
    key = generate_key()
    return key_to_pem(key), public_key_to_pem(key)


# --- Reading certificates back -----------------------------------------------------------------

def certificate_sans(cert_pem: str) -> set[str]:
    """Every DNS name and IP address in the certificate's SAN extension, as text."""
    try:
        ext = load_cert(cert_pem).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return set(ext.get_values_for_type(x509.DNSName)) | {
        str(i) for i in ext.get_values_for_type(x509.IPAddress)
    }


def not_after(cert_pem: str) -> datetime:
    return load_cert(cert_pem).not_valid_after_utc


def serial_hex(cert_pem: str) -> str:
    return format(load_cert(cert_pem).serial_number, "x")


def signed_by(cert_pem: str, ca_pem: str) -> bool:
    """True when `ca_pem` verifies the certificate's signature."""
    try:
        load_cert(cert_pem).verify_directly_issued_by(load_cert(ca_pem))
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def needs_renewal(cert_pem: str, *, now: datetime, renew_before: timedelta) -> bool:
    return not_after(cert_pem) - now <= renew_before


def key_matches(cert_pem: str, key_pem: str) -> bool:
    pub = lambda k: k.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)  # noqa: E731
    try:
        return pub(load_cert(cert_pem).public_key()) == pub(load_key(key_pem).public_key())
    except ValueError:
        return False


# --- What a tenant needs -----------------------------------------------------------------------

def apiserver_sans(
    *,
    service_cidr: str,
    cluster_domain: str,
    service_name: str,
    namespace: str,
    management_domain: str,
    service_ips: Iterable[str] = (),
    endpoint_hosts: Iterable[str] = (),
    extra: Iterable[str] = (),
) -> tuple[list[str], list[str]]:
    """(DNS names, IPs) the tenant apiserver's serving certificate must cover.

    Inside the tenant: kubernetes[.default[.svc[.<domain>]]] and the first service IP. In the
    management cluster: the tenant Service's DNS names and cluster IP. From outside: the endpoint.
    From its own pod: localhost. Plus whatever the user asked for.
    """
    first_service_ip = str(ipaddress.ip_network(service_cidr).network_address + 1)
    dns = [
        "kubernetes", "kubernetes.default", "kubernetes.default.svc", f"kubernetes.default.svc.{cluster_domain}",
        service_name, f"{service_name}.{namespace}", f"{service_name}.{namespace}.svc",
        f"{service_name}.{namespace}.svc.{management_domain}", "localhost",
    ]
    ips = [first_service_ip, "127.0.0.1", *service_ips]
    for value in [*endpoint_hosts, *extra]:
        try:
            ips.append(str(ipaddress.ip_address(value)))
        except ValueError:
            dns.append(value)
    return list(dict.fromkeys(dns)), list(dict.fromkeys(ips))


def _cert_key(stored: Mapping[str, str], cert: str, key: str) -> CertKey | None:
    if stored.get(cert) and stored.get(key) and key_matches(stored[cert], stored[key]):
        return CertKey(stored[cert], stored[key])
    return None


def _ca_usable(ca: CertKey | None, validity: Validity) -> bool:
    # A CA is replaced only when it is about to expire: replacing it invalidates every kubeconfig.
    return ca is not None and not needs_renewal(ca.cert_pem, now=validity.now, renew_before=validity.renew_before)


def _leaf_usable(leaf: CertKey | None, ca: CertKey, validity: Validity, sans: set[str] | None = None) -> bool:
    if leaf is None or not signed_by(leaf.cert_pem, ca.cert_pem):
        return False
    if needs_renewal(leaf.cert_pem, now=validity.now, renew_before=validity.renew_before):
        return False
    return sans is None or certificate_sans(leaf.cert_pem) == sans


def plan_pki(
    stored: Mapping[str, str], *, dns_names: list[str], ip_addresses: list[str], validity: Validity
) -> dict[str, str]:
    """The pki Secret's contents (file name -> PEM) that should be stored, given what is.

    Returns `stored` unchanged (same values) when nothing needs issuing, so callers can compare.
    """
    out = dict(stored)

    ca = _cert_key(stored, CA_CERT, CA_KEY)
    if not _ca_usable(ca, validity):
        ca = issue_ca(common_name="kubernetes", now=validity.now, validity=validity.ca)
        out[CA_CERT], out[CA_KEY] = ca.cert_pem, ca.key_pem

    front_ca = _cert_key(stored, FRONT_PROXY_CA_CERT, FRONT_PROXY_CA_KEY)
    if not _ca_usable(front_ca, validity):
        front_ca = issue_ca(common_name="front-proxy-ca", now=validity.now, validity=validity.ca)
        out[FRONT_PROXY_CA_CERT], out[FRONT_PROXY_CA_KEY] = front_ca.cert_pem, front_ca.key_pem

    wanted_sans = {*dns_names, *ip_addresses}
    leaves = [
        (APISERVER_CERT, APISERVER_KEY, ca, wanted_sans,
         dict(common_name="kube-apiserver", dns_names=dns_names, ip_addresses=ip_addresses, server=True)),
        # kubeadm >= 1.29 puts this identity in kubeadm:cluster-admins; system:masters needs no binding.
        (KUBELET_CLIENT_CERT, KUBELET_CLIENT_KEY, ca, None,
         dict(common_name="kube-apiserver-kubelet-client", organizations=["system:masters"], client=True)),
        (FRONT_PROXY_CLIENT_CERT, FRONT_PROXY_CLIENT_KEY, front_ca, None,
         dict(common_name=FRONT_PROXY_CLIENT_CN, client=True)),
    ]
    for cert_name, key_name, signer, sans, spec in leaves:
        if not _leaf_usable(_cert_key(stored, cert_name, key_name), signer, validity, sans):
            leaf = issue_certificate(ca=signer, now=validity.now, validity=validity.leaf, **spec)
            out[cert_name], out[key_name] = leaf.cert_pem, leaf.key_pem

    # Service-account keys do not expire; replacing them would invalidate every token in the tenant.
    if not (stored.get(SA_KEY) and stored.get(SA_PUB)):
        out[SA_KEY], out[SA_PUB] = generate_service_account_keys()
    return out


def content_hash(data: Mapping[str, str]) -> str:
    """A stable digest of a Secret's contents (pod template annotation: roll pods on change)."""
    digest = hashlib.sha256()
    for name in sorted(data):
        digest.update(name.encode() + b"\0" + data[name].encode() + b"\0")
    return digest.hexdigest()[:16]
