"""A tenant's own etcd client identity: a certificate whose CN is its etcd user, signed by the datastore's CA.

With `--client-cert-auth`, etcd takes the user name from the certificate's CN, so this certificate *is* the
tenant's login for its kube-apiserver (gRPC). Pure functions, no I/O.
"""

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import NameOID

from kamaji_ui.x509 import CertKey, issue_certificate


def issue_etcd_client_identity(*, ca_cert_pem: str, ca_key_pem: str, user: str, validity: timedelta) -> CertKey:
    """A client certificate (ECDSA P-256) for etcd user `user`, valid for `validity` (capped at the CA's end)."""
    return issue_certificate(
        ca=CertKey(ca_cert_pem, ca_key_pem), common_name=user, organizations=["kamaji-ui tenants"],
        client=True, validity=validity,
    )


def identity_reusable(cert_pem: str, *, user: str, ca_cert_pem: str, renew_before: timedelta,
                      now: datetime | None = None) -> bool:
    """True if `cert_pem` is `user`'s certificate from this CA and stays valid for longer than `renew_before`."""
    if not cert_pem:
        return False
    try:
        cert = x509.load_pem_x509_certificate(cert_pem.encode())
        ca = x509.load_pem_x509_certificate(ca_cert_pem.encode())
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    common_names = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return common_names == [user] and cert.not_valid_after_utc - (now or datetime.now(UTC)) > renew_before
