"""Pure parts of the datastore drivers: certificates, key ranges, names, endpoints, derived passwords."""

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from datastores.drivers.base import DriverError, tenant_password
from datastores.drivers.endpoints import host_port
from datastores.drivers.etcd import etcd_prefix_for, etcd_user_for, prefix_permission
from datastores.drivers.etcd_gateway import b64, prefix_range_end
from datastores.drivers.etcd_identity import identity_reusable, issue_etcd_client_identity
from datastores.drivers.mysql import mysql_database_for, mysql_user_for
from datastores.drivers.postgresql import postgresql_name_for
from kamaji_ui.x509 import CertKey, create_ca, issue_certificate

TENANT = SimpleNamespace(uid=uuid.UUID("12345678-1234-5678-1234-567812345678"))


@pytest.fixture(scope="module")
def ca() -> CertKey:
    return create_ca(common_name="test CA", validity=timedelta(days=30))


def load(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def test_tenant_identity_is_an_ecdsa_client_certificate_with_the_user_as_cn(ca):
    pair = issue_etcd_client_identity(ca_cert_pem=ca.cert_pem, ca_key_pem=ca.key_pem, user="kui-x",
                                      validity=timedelta(days=3))
    cert = load(pair.cert_pem)
    cert.verify_directly_issued_by(load(ca.cert_pem))
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "kui-x"
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey) and cert.public_key().curve.name == "secp256r1"
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH]
    lifetime = cert.not_valid_after_utc - datetime.now(UTC)
    assert timedelta(days=2, hours=23) < lifetime <= timedelta(days=3)


def test_a_certificate_never_outlives_its_ca(ca):
    pair = issue_certificate(ca=ca, common_name="x", client=True, validity=timedelta(days=9999))
    assert load(pair.cert_pem).not_valid_after_utc == load(ca.cert_pem).not_valid_after_utc


def test_server_certificate_carries_ip_and_dns_names(ca):
    pair = issue_certificate(ca=ca, common_name="etcd", server=True, client=True,
                             hosts=("10.212.0.1", "localhost"), validity=timedelta(days=1))
    sans = load(pair.cert_pem).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["10.212.0.1"]
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]


def test_a_certificate_may_have_no_common_name(ca):
    pair = issue_certificate(ca=ca, common_name="", organizations=["kamaji-ui"], client=True,
                             validity=timedelta(days=1))
    assert load(pair.cert_pem).subject.get_attributes_for_oid(NameOID.COMMON_NAME) == []


def test_an_identity_is_reused_only_while_valid_long_enough_for_the_same_user_and_ca(ca):
    pair = issue_etcd_client_identity(ca_cert_pem=ca.cert_pem, ca_key_pem=ca.key_pem, user="kui-x",
                                      validity=timedelta(days=10))
    other_ca = create_ca(common_name="other", validity=timedelta(days=30))
    now = datetime.now(UTC)
    reusable = dict(user="kui-x", ca_cert_pem=ca.cert_pem, renew_before=timedelta(days=5))
    assert identity_reusable(pair.cert_pem, **reusable, now=now)
    assert not identity_reusable(pair.cert_pem, **reusable, now=now + timedelta(days=6))  # inside renewal window
    assert not identity_reusable(pair.cert_pem, **{**reusable, "user": "kui-y"}, now=now)
    assert not identity_reusable(pair.cert_pem, **{**reusable, "ca_cert_pem": other_ca.cert_pem}, now=now)
    assert not identity_reusable("", **reusable)
    assert not identity_reusable("not a certificate", **reusable)


def test_prefix_range_end_is_the_prefix_plus_one():
    assert prefix_range_end(b"/kamaji-ui/abc") == b"/kamaji-ui/abd"
    assert prefix_range_end(b"a\xff") == b"b"
    assert prefix_range_end(b"\xff\xff") == b"\0"


def test_tenant_names_come_from_its_uid():
    assert etcd_user_for(TENANT) == "kui-12345678-1234-5678-1234-567812345678"
    assert etcd_prefix_for(TENANT) == "/kamaji-ui/12345678-1234-5678-1234-567812345678"
    assert postgresql_name_for(TENANT) == "kui_12345678123456781234567812345678"
    assert mysql_database_for(TENANT) == "kui_12345678123456781234567812345678"
    assert len(mysql_user_for(TENANT)) == 32  # MySQL 8's limit


def test_the_grant_covers_the_prefix_range():
    assert prefix_permission("/p/x") == {"permType": "READWRITE", "key": b64("/p/x"), "range_end": b64("/p/y")}


def test_tenant_password_is_derived_and_stable(settings):
    settings.SECRET_KEY = "k1"
    first = tenant_password(TENANT)
    assert first == tenant_password(SimpleNamespace(uid=TENANT.uid)) and len(first) == 64
    assert first != tenant_password(SimpleNamespace(uid=uuid.uuid4()))
    settings.SECRET_KEY = "k2"
    assert tenant_password(TENANT) != first


@pytest.mark.parametrize(("endpoint", "expected"), [
    ("10.212.0.1:55432", ("10.212.0.1", 55432)),
    ("db.example.test", ("db.example.test", 5432)),
    ("https://10.212.0.1:23790", ("10.212.0.1", 23790)),
    ("[fd00::1]:3306", ("fd00::1", 3306)),
])
def test_endpoints_are_read_as_host_and_port(endpoint, expected):
    assert host_port(endpoint, default_port=5432) == expected


@pytest.mark.parametrize("endpoint", ["10.0.0.1:notaport", ":5432"])
def test_bad_endpoints_are_refused_clearly(endpoint):
    with pytest.raises(DriverError, match="endpoint"):
        host_port(endpoint, default_port=5432)


def test_etcd_endpoints_without_a_scheme_mean_https():
    from datastores.drivers.etcd import endpoint_urls

    datastore = SimpleNamespace(endpoints=["10.212.0.1:23790", "http://127.0.0.1:2379"])
    assert endpoint_urls(datastore) == ["https://10.212.0.1:23790", "http://127.0.0.1:2379"]
