"""Kubeconfig builders and the component kubeconfig plan (pure, no cluster)."""

import base64
from datetime import UTC, datetime, timedelta

import yaml
from cryptography import x509

from tenants.services import kubeconfig, pki

NOW = datetime(2026, 1, 1, tzinfo=UTC)
VALIDITY = pki.Validity(now=NOW, ca=timedelta(days=3650), leaf=timedelta(days=365), renew_before=timedelta(days=30))
CA = pki.issue_ca(common_name="kubernetes", now=NOW, validity=VALIDITY.ca)


def test_build_kubeconfig_inlines_ca_and_client_and_selects_the_context():
    leaf = pki.issue_certificate(ca=CA, common_name="alice", organizations=["g"], client=True, now=NOW,
                                 validity=timedelta(hours=24))
    text = kubeconfig.kubeconfig_yaml(kubeconfig.build_kubeconfig(
        cluster_name="demo", server="https://10.212.0.1:31000", ca_pem=CA.cert_pem, user_name="alice",
        cert_pem=leaf.cert_pem, key_pem=leaf.key_pem,
    ))
    config = yaml.safe_load(text)
    assert config["current-context"] == "alice@demo"
    assert config["contexts"] == [{"name": "alice@demo", "context": {"cluster": "demo", "user": "alice"}}]
    cluster = config["clusters"][0]["cluster"]
    assert cluster["server"] == "https://10.212.0.1:31000"
    assert base64.b64decode(cluster["certificate-authority-data"]).decode() == CA.cert_pem
    assert kubeconfig.client_certificate_of(text) == (leaf.cert_pem, leaf.key_pem)


def test_component_kubeconfigs_use_system_identities_and_the_local_apiserver():
    out = kubeconfig.plan_component_kubeconfigs({}, ca=CA, cluster_name="demo", validity=VALIDITY)
    assert set(out) == {"controller-manager.conf", "scheduler.conf"}
    for file, identity in kubeconfig.COMPONENT_IDENTITIES.items():
        cert_pem, _ = kubeconfig.client_certificate_of(out[file])
        cn = pki.load_cert(cert_pem).subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
        assert cn == identity
        assert kubeconfig.server_of(out[file]) == "https://127.0.0.1:6443"
        assert pki.signed_by(cert_pem, CA.cert_pem)


def test_component_kubeconfigs_are_kept_then_renewed_near_expiry_or_on_a_new_ca():
    first = kubeconfig.plan_component_kubeconfigs({}, ca=CA, cluster_name="demo", validity=VALIDITY)
    assert kubeconfig.plan_component_kubeconfigs(first, ca=CA, cluster_name="demo", validity=VALIDITY) == first

    late = pki.Validity(now=NOW + timedelta(days=350), ca=VALIDITY.ca, leaf=VALIDITY.leaf,
                        renew_before=VALIDITY.renew_before)
    renewed = kubeconfig.plan_component_kubeconfigs(first, ca=CA, cluster_name="demo", validity=late)
    assert all(renewed[f] != first[f] for f in first)

    other_ca = pki.issue_ca(common_name="kubernetes", now=NOW, validity=VALIDITY.ca)
    resigned = kubeconfig.plan_component_kubeconfigs(first, ca=other_ca, cluster_name="demo", validity=VALIDITY)
    assert all(pki.signed_by(kubeconfig.client_certificate_of(resigned[f])[0], other_ca.cert_pem) for f in first)


def test_client_certificate_of_garbage_is_none():
    assert kubeconfig.client_certificate_of("") is None
    assert kubeconfig.client_certificate_of("users: [{}]") is None
