"""The tenant PKI: what plan_pki issues, keeps and renews (pure, no cluster)."""

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from kamaji_ui.x509 import CLOCK_SKEW
from tenants.services import pki

NOW = datetime(2026, 1, 1, tzinfo=UTC)
VALIDITY = pki.Validity(now=NOW, ca=timedelta(days=3650), leaf=timedelta(days=365), renew_before=timedelta(days=30))


def plan(stored=None, *, validity=VALIDITY, extra=()):
    dns, ips = pki.apiserver_sans(
        service_cidr="10.96.0.0/16", cluster_domain="cluster.local", service_name="demo", namespace="kui-1-demo",
        management_domain="cluster.local", service_ips=["10.213.0.55"], endpoint_hosts=["10.212.0.1"], extra=extra,
    )
    return pki.plan_pki(stored or {}, dns_names=dns, ip_addresses=ips, validity=validity)


def test_apiserver_sans_cover_in_tenant_names_service_endpoint_localhost_and_extras():
    dns, ips = pki.apiserver_sans(
        service_cidr="10.96.0.0/16", cluster_domain="corp.local", service_name="demo", namespace="kui-1-demo",
        management_domain="cluster.local", service_ips=["10.213.0.55"], endpoint_hosts=["10.212.0.1"],
        extra=["api.example.com", "192.0.2.7"],
    )
    assert dns == [
        "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.corp.local",
        "demo", "demo.kui-1-demo", "demo.kui-1-demo.svc", "demo.kui-1-demo.svc.cluster.local", "localhost",
        "api.example.com",
    ]
    assert ips == ["10.96.0.1", "127.0.0.1", "10.213.0.55", "10.212.0.1", "192.0.2.7"]


def test_plan_issues_every_kubeadm_file_with_p256_keys():
    out = plan()
    assert set(out) == {
        "ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "apiserver-kubelet-client.crt",
        "apiserver-kubelet-client.key", "front-proxy-ca.crt", "front-proxy-ca.key", "front-proxy-client.crt",
        "front-proxy-client.key", "sa.key", "sa.pub",
    }
    key = pki.load_key(out["apiserver.key"])
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    assert pki.signed_by(out["apiserver.crt"], out["ca.crt"])
    assert pki.signed_by(out["apiserver-kubelet-client.crt"], out["ca.crt"])
    assert pki.signed_by(out["front-proxy-client.crt"], out["front-proxy-ca.crt"])
    assert not pki.signed_by(out["front-proxy-client.crt"], out["ca.crt"])


def test_serving_certificate_is_for_servers_with_all_sans_and_one_year():
    out = plan()
    cert = pki.load_cert(out["apiserver.crt"])
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]
    assert {"10.212.0.1", "127.0.0.1", "10.96.0.1", "kubernetes.default.svc.cluster.local"} <= pki.certificate_sans(
        out["apiserver.crt"]
    )
    assert cert.not_valid_after_utc == NOW + timedelta(days=365)
    assert cert.not_valid_before_utc == NOW - CLOCK_SKEW


def test_kubelet_client_is_a_client_in_system_masters():
    cert = pki.load_cert(plan()["apiserver-kubelet-client.crt"])
    orgs = [a.value for a in cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)]
    assert orgs == ["system:masters"]
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]


def test_certificates_carry_kubeadm_key_usages():
    out = plan()
    for ca in ("ca.crt", "front-proxy-ca.crt"):
        cert = pki.load_cert(out[ca])
        assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length is None
        assert cert.extensions.get_extension_for_class(x509.KeyUsage).value == pki.KUBEADM_CA_USAGE
        assert [a.oid for a in cert.subject] == [x509.NameOID.COMMON_NAME]
    for leaf in ("apiserver.crt", "apiserver-kubelet-client.crt", "front-proxy-client.crt"):
        usage = pki.load_cert(out[leaf]).extensions.get_extension_for_class(x509.KeyUsage).value
        assert usage == pki.KUBEADM_LEAF_USAGE and usage.key_encipherment and usage.digital_signature


def test_second_plan_changes_nothing():
    first = plan()
    assert plan(first) == first


def test_new_endpoint_reissues_only_the_serving_certificate():
    first = plan()
    second = plan(first, extra=["api.example.com"])
    changed = {k for k in first if first[k] != second[k]}
    assert changed == {"apiserver.crt", "apiserver.key"}
    assert "api.example.com" in pki.certificate_sans(second["apiserver.crt"])


def test_leaves_within_the_renewal_window_are_renewed_but_ca_and_sa_keys_kept():
    first = plan()
    later = pki.Validity(now=NOW + timedelta(days=340), ca=VALIDITY.ca, leaf=VALIDITY.leaf,
                         renew_before=VALIDITY.renew_before)
    second = plan(first, validity=later)
    changed = {k for k in first if first[k] != second[k]}
    assert changed == {
        "apiserver.crt", "apiserver.key", "apiserver-kubelet-client.crt", "apiserver-kubelet-client.key",
        "front-proxy-client.crt", "front-proxy-client.key",
    }
    assert pki.not_after(second["apiserver.crt"]) == later.now + timedelta(days=365)


def test_leaves_outside_the_renewal_window_are_kept():
    first = plan()
    later = pki.Validity(now=NOW + timedelta(days=300), ca=VALIDITY.ca, leaf=VALIDITY.leaf,
                         renew_before=VALIDITY.renew_before)
    assert plan(first, validity=later) == first


def test_a_new_ca_reissues_everything_it_signed():
    first = plan()
    damaged = {**first, "ca.key": pki.key_to_pem(pki.generate_key())}  # key no longer matches the cert
    second = plan(damaged)
    assert second["ca.crt"] != first["ca.crt"]
    assert pki.signed_by(second["apiserver.crt"], second["ca.crt"])
    assert pki.signed_by(second["apiserver-kubelet-client.crt"], second["ca.crt"])
    assert second["front-proxy-ca.crt"] == first["front-proxy-ca.crt"]
    assert second["sa.key"] == first["sa.key"]


def test_leaf_never_outlives_its_ca():
    ca = pki.issue_ca(common_name="short", now=NOW, validity=timedelta(days=10))
    leaf = pki.issue_certificate(ca=ca, common_name="x", client=True, now=NOW, validity=timedelta(days=365))
    assert pki.not_after(leaf.cert_pem) == pki.not_after(ca.cert_pem)


def test_content_hash_is_order_independent_and_content_sensitive():
    assert pki.content_hash({"a": "1", "b": "2"}) == pki.content_hash({"b": "2", "a": "1"})
    assert pki.content_hash({"a": "1"}) != pki.content_hash({"a": "2"})
