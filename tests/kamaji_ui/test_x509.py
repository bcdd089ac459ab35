"""kamaji_ui.x509: the certificate primitives both PKIs (tenants, datastores) are built on."""

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kamaji_ui.x509 import (
    CLOCK_SKEW,
    create_ca,
    generate_key,
    issue_certificate,
    key_to_pem,
    key_usage,
    load_cert,
    load_key,
    public_key_to_pem,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def ca():
    return create_ca(common_name="test CA", now=NOW, validity=timedelta(days=30))


def ext(cert: x509.Certificate, kind):
    return cert.extensions.get_extension_for_class(kind).value


def test_keys_are_p256_and_survive_pem_round_trips():
    key = generate_key()
    loaded = load_key(key_to_pem(key))
    assert isinstance(loaded, ec.EllipticCurvePrivateKey) and loaded.curve.name == "secp256r1"
    assert loaded.private_numbers() == key.private_numbers()
    assert public_key_to_pem(key).startswith("-----BEGIN PUBLIC KEY-----")


def test_ca_is_self_signed_for_end_entities_only_and_backdated(ca):
    cert = load_cert(ca.cert_pem)
    cert.verify_directly_issued_by(cert)
    assert [a.value for a in cert.subject] == ["test CA"] and cert.issuer == cert.subject
    assert ext(cert, x509.BasicConstraints) == x509.BasicConstraints(ca=True, path_length=0)
    assert ext(cert, x509.KeyUsage) == key_usage("digital_signature", "key_cert_sign", "crl_sign")
    assert ext(cert, x509.SubjectKeyIdentifier) == x509.SubjectKeyIdentifier.from_public_key(cert.public_key())
    assert cert.not_valid_before_utc == NOW - CLOCK_SKEW
    assert cert.not_valid_after_utc == NOW + timedelta(days=30)
    assert load_key(ca.key_pem).public_key() == cert.public_key()


def test_ca_path_length_and_usage_can_be_chosen():
    usage = key_usage("digital_signature", "key_encipherment", "key_cert_sign")
    cert = load_cert(create_ca(common_name="k", validity=DAY, path_length=None, usage=usage).cert_pem)
    assert ext(cert, x509.BasicConstraints).path_length is None
    assert ext(cert, x509.KeyUsage) == usage


def test_leaf_is_signed_by_the_ca_with_default_usage_and_authority_key_id(ca):
    cert = load_cert(issue_certificate(ca=ca, common_name="x", client=True, now=NOW, validity=DAY).cert_pem)
    ca_cert = load_cert(ca.cert_pem)
    cert.verify_directly_issued_by(ca_cert)
    assert ext(cert, x509.BasicConstraints) == x509.BasicConstraints(ca=False, path_length=None)
    assert ext(cert, x509.KeyUsage) == key_usage("digital_signature")
    assert ext(cert, x509.AuthorityKeyIdentifier).key_identifier == ext(
        ca_cert, x509.SubjectKeyIdentifier).digest
    assert (cert.not_valid_before_utc, cert.not_valid_after_utc) == (NOW - CLOCK_SKEW, NOW + DAY)
    with pytest.raises(x509.ExtensionNotFound):
        ext(cert, x509.SubjectAlternativeName)


@pytest.mark.parametrize(("server", "client", "usages"), [
    (True, False, [ExtendedKeyUsageOID.SERVER_AUTH]),
    (False, True, [ExtendedKeyUsageOID.CLIENT_AUTH]),
    (True, True, [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
])
def test_leaf_extended_usage_is_server_client_or_both(ca, server, client, usages):
    pair = issue_certificate(ca=ca, common_name="x", server=server, client=client, now=NOW, validity=DAY)
    assert list(ext(load_cert(pair.cert_pem), x509.ExtendedKeyUsage)) == usages


def test_leaf_must_be_for_a_server_or_a_client(ca):
    with pytest.raises(ValueError, match="server, a client or both"):
        issue_certificate(ca=ca, common_name="x", now=NOW, validity=DAY)


def test_subject_is_organizations_then_common_name_and_an_empty_cn_is_left_out(ca):
    named = issue_certificate(ca=ca, common_name="alice", organizations=["a", "b"], client=True, now=NOW,
                              validity=DAY)
    subject = load_cert(named.cert_pem).subject
    assert [(a.oid, a.value) for a in subject] == [
        (NameOID.ORGANIZATION_NAME, "a"), (NameOID.ORGANIZATION_NAME, "b"), (NameOID.COMMON_NAME, "alice")]
    nameless = issue_certificate(ca=ca, common_name="", organizations=["kamaji-ui"], client=True, now=NOW,
                                 validity=DAY)
    assert load_cert(nameless.cert_pem).subject.get_attributes_for_oid(NameOID.COMMON_NAME) == []


def test_sans_from_mixed_hosts_then_dns_names_then_ip_addresses(ca):
    pair = issue_certificate(ca=ca, common_name="s", server=True, now=NOW, validity=DAY,
                             hosts=["10.0.0.1", "localhost", "::1"], dns_names=["kubernetes"],
                             ip_addresses=["127.0.0.1"])
    sans = ext(load_cert(pair.cert_pem), x509.SubjectAlternativeName)
    assert [str(n.value) for n in sans] == ["10.0.0.1", "localhost", "::1", "kubernetes", "127.0.0.1"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["10.0.0.1", "::1", "127.0.0.1"]
    assert sans.get_values_for_type(x509.DNSName) == ["localhost", "kubernetes"]


def test_leaf_never_outlives_its_ca(ca):
    pair = issue_certificate(ca=ca, common_name="x", client=True, now=NOW, validity=timedelta(days=9999))
    assert load_cert(pair.cert_pem).not_valid_after_utc == load_cert(ca.cert_pem).not_valid_after_utc


def test_without_now_the_clock_is_used():
    before = datetime.now(UTC).replace(microsecond=0)
    ca = create_ca(common_name="c", validity=timedelta(days=2))
    leaf = load_cert(issue_certificate(ca=ca, common_name="x", client=True, validity=DAY).cert_pem)
    after = datetime.now(UTC)
    assert before - CLOCK_SKEW <= leaf.not_valid_before_utc <= after - CLOCK_SKEW
    assert before + DAY <= leaf.not_valid_after_utc <= after + DAY


def test_key_usage_rejects_unknown_bits():
    with pytest.raises(ValueError, match="unknown key usage"):
        key_usage("digital_signature", "sign_everything")
