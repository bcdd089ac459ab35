"""X.509 primitives shared by every PKI in the project: pure functions over PEM text, no Django, no I/O.

Keys are ECDSA P-256 everywhere (fast to generate, accepted by etcd and every Kubernetes component). The
tenant PKI (tenants.services.pki, kubeadm-compatible) and the datastores' PKI (the local etcd's own CA,
tenants' etcd client identities) build their certificates here and differ only in what they pass.
"""

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Backdate notBefore a little so that a clock slightly behind ours still accepts a fresh certificate.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class CertKey:
    """A certificate and its private key, PEM text."""

    cert_pem: str
    key_pem: str


def key_usage(*allowed: str) -> x509.KeyUsage:
    """A KeyUsage with only the named bits set, e.g. key_usage("digital_signature", "key_cert_sign")."""
    bits = {
        "digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
        "key_cert_sign", "crl_sign", "encipher_only", "decipher_only",
    }
    if unknown := set(allowed) - bits:
        raise ValueError(f"unknown key usage {sorted(unknown)}")
    return x509.KeyUsage(**{bit: bit in allowed for bit in bits})


# Defaults: a CA that signs certificates and CRLs, a leaf that signs (ECDSA keys encipher nothing).
CA_KEY_USAGE = key_usage("digital_signature", "key_cert_sign", "crl_sign")
LEAF_KEY_USAGE = key_usage("digital_signature")


def generate_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_to_pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_key_to_pem(key) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def cert_to_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def load_cert(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def load_key(pem: str):
    return serialization.load_pem_private_key(pem.encode(), password=None)


def subject_name(common_name: str, organizations: Iterable[str] = ()) -> x509.Name:
    """O=… for each organization, then CN; an empty `common_name` leaves the CN out."""
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
    if common_name:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def general_name(host: str) -> x509.GeneralName:
    """An IP address SAN when `host` parses as one, else a DNS name SAN."""
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _builder(*, subject: x509.Name, issuer: x509.Name, key, now: datetime, not_after: datetime,
             ca: bool, path_length: int | None, usage: x509.KeyUsage) -> x509.CertificateBuilder:
    """What every certificate here has: identity, validity (backdated by CLOCK_SKEW), basic constraints, usage."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(usage, critical=True)
    )


def create_ca(
    *,
    common_name: str,
    validity: timedelta,
    now: datetime | None = None,
    path_length: int | None = 0,
    usage: x509.KeyUsage = CA_KEY_USAGE,
) -> CertKey:
    """A self-signed CA (subject: CN only). By default it may sign only end-entity certificates."""
    key = generate_key()
    now = now or datetime.now(UTC)
    name = subject_name(common_name)
    cert = (
        _builder(subject=name, issuer=name, key=key, now=now, not_after=now + validity, ca=True,
                 path_length=path_length, usage=usage)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertKey(cert_to_pem(cert), key_to_pem(key))


def issue_certificate(
    *,
    ca: CertKey,
    common_name: str,
    validity: timedelta,
    now: datetime | None = None,
    organizations: Iterable[str] = (),
    server: bool = False,
    client: bool = False,
    hosts: Iterable[str] = (),
    dns_names: Iterable[str] = (),
    ip_addresses: Iterable[str] = (),
    usage: x509.KeyUsage = LEAF_KEY_USAGE,
) -> CertKey:
    """An end-entity certificate signed by `ca`, for serving (`server`), client auth (`client`) or both.

    `common_name` may be empty (no CN at all: etcd's JSON gateway refuses client certificates with one once
    auth is on). SANs: `hosts` in their order, each an IP address or a DNS name, then `dns_names`, then
    `ip_addresses`. The validity never reaches past the CA's own expiry.
    """
    if not (server or client):
        raise ValueError("a certificate is for a server, a client or both")
    ca_cert, ca_key = load_cert(ca.cert_pem), load_key(ca.key_pem)
    key = generate_key()
    now = now or datetime.now(UTC)
    usages = [ExtendedKeyUsageOID.SERVER_AUTH] * server + [ExtendedKeyUsageOID.CLIENT_AUTH] * client
    builder = (
        _builder(subject=subject_name(common_name, organizations), issuer=ca_cert.subject, key=key, now=now,
                 not_after=min(now + validity, ca_cert.not_valid_after_utc), ca=False, path_length=None,
                 usage=usage)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False)
    )
    sans = [
        *(general_name(h) for h in hosts),
        *(x509.DNSName(d) for d in dns_names),
        *(x509.IPAddress(ipaddress.ip_address(i)) for i in ip_addresses),
    ]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return CertKey(cert_to_pem(builder.sign(ca_key, hashes.SHA256())), key_to_pem(key))
