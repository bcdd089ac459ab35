"""The etcd driver against the real local etcd (TLS, client-cert auth, auth enabled)."""

import json
from datetime import timedelta

import pytest

from datastores.drivers import DriverError, driver_for
from datastores.drivers.etcd import etcd_prefix_for, etcd_user_for
from datastores.drivers.etcd_gateway import EtcdError, EtcdGateway, b64, prefix_range_end
from datastores.services.health import check_health
from kamaji_ui.x509 import CertKey, issue_certificate

pytestmark = [pytest.mark.datastores, pytest.mark.django_db]


def login_as(datastore, conn) -> EtcdGateway:
    """A gateway session logged in with the tenant's own user and password.

    The TLS client certificate only opens the door (client-cert-auth): it has no CN, as etcd requires
    over its JSON gateway, and is freshly issued here so it is nobody's identity.
    """
    door = issue_certificate(ca=CertKey(datastore.ca_certificate, datastore.ca_key), common_name="",
                             organizations=["tests"], client=True, validity=timedelta(hours=1))
    return EtcdGateway(endpoints=conn.endpoints, ca_pem=conn.ca_pem, client_cert_pem=door.cert_pem,
                       client_key_pem=door.key_pem, username=conn.username, password=conn.password)


def test_each_tenant_reads_and_writes_its_own_prefix_and_is_denied_the_other(etcd_datastore, new_tenant):
    a, b = new_tenant(etcd_datastore), new_tenant(etcd_datastore)
    driver = driver_for(etcd_datastore)
    conn_a, conn_b = driver.provision(a), driver.provision(b)
    assert conn_a.prefix == f"/kamaji-ui/{a.uid}" and conn_a.username == f"kui-{a.uid}"
    assert conn_a.endpoints == ["https://10.212.0.1:23790"]

    with login_as(etcd_datastore, conn_a) as etcd_a, login_as(etcd_datastore, conn_b) as etcd_b:
        etcd_a.put(f"{conn_a.prefix}/registry/pods/x", "a's pod")
        etcd_b.put(f"{conn_b.prefix}/registry/pods/y", "b's pod")
        assert etcd_a.get(f"{conn_a.prefix}/registry/pods/x") == b"a's pod"
        assert etcd_b.get(f"{conn_b.prefix}/registry/pods/y") == b"b's pod"
        for etcd, other in ((etcd_a, conn_b.prefix), (etcd_b, conn_a.prefix)):
            with pytest.raises(EtcdError) as denied:
                etcd.get(f"{other}/registry/pods/x")
            assert denied.value.permission_denied
            with pytest.raises(EtcdError) as denied:
                etcd.put(f"{other}/registry/pods/intruder", "no")
            assert denied.value.permission_denied
        # Nor outside any tenant's prefix, nor a neighbouring key that merely starts with the same characters.
        with pytest.raises(EtcdError) as denied:
            etcd_a.get("/registry/secrets")
        assert denied.value.permission_denied
        with pytest.raises(EtcdError) as denied:
            etcd_a.put(conn_a.prefix[:-1], "shorter key")
        assert denied.value.permission_denied
    assert driver.usage(a) == 1 and driver.usage(b) == 1


def test_tenant_identity_is_a_client_certificate_named_for_its_user(etcd_datastore, new_tenant):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    tenant = new_tenant(etcd_datastore)
    conn = driver_for(etcd_datastore).provision(tenant)
    cert = x509.load_pem_x509_certificate(conn.client_cert_pem.encode())
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(etcd_datastore.ca_certificate.encode()))
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == etcd_user_for(tenant)
    assert conn.client_key_pem.startswith("-----BEGIN PRIVATE KEY-----")


def admin_view(datastore, tenant) -> dict:
    """What etcd holds for `tenant`, asked as root."""
    with driver_for(datastore).gateway() as etcd:
        def get(path, body):
            try:
                return etcd.call(path, body)
            except EtcdError as exc:
                if exc.not_found:
                    return None
                raise
        return {"role": get("auth/role/get", {"role": etcd_user_for(tenant)}),
                "user": get("auth/user/get", {"name": etcd_user_for(tenant)}),
                "keys": etcd.count_prefix(etcd_prefix_for(tenant))}


def test_deprovision_removes_keys_role_and_user_and_is_idempotent(etcd_datastore, new_tenant):
    tenant = new_tenant(etcd_datastore)
    driver = driver_for(etcd_datastore)
    conn = driver.provision(tenant)
    with login_as(etcd_datastore, conn) as etcd:
        for i in range(3):
            etcd.put(f"{conn.prefix}/registry/configmaps/{i}", "x")
    before = admin_view(etcd_datastore, tenant)
    assert before["keys"] == 3 and before["role"] is not None and before["user"]["roles"] == [conn.username]

    driver.deprovision(tenant)
    assert admin_view(etcd_datastore, tenant) == {"role": None, "user": None, "keys": 0}
    driver.deprovision(tenant)  # again: nothing left to do, no error
    with pytest.raises(EtcdError), login_as(etcd_datastore, conn) as etcd:
        etcd.get(f"{conn.prefix}/registry/configmaps/0")  # the user cannot log in any more


def test_provision_twice_converges_to_one_grant_and_reuses_a_valid_identity(etcd_datastore, new_tenant):
    tenant = new_tenant(etcd_datastore)
    driver = driver_for(etcd_datastore)
    first = driver.provision(tenant)
    again = driver.provision(tenant, current=first)
    assert again == first  # same prefix, user, password and the very same certificate
    fresh = driver.provision(tenant)  # no current identity given: a new one is issued
    assert fresh.client_cert_pem != first.client_cert_pem and fresh.prefix == first.prefix
    view = admin_view(etcd_datastore, tenant)
    assert len(view["role"]["perm"]) == 1 and view["user"]["roles"] == [etcd_user_for(tenant)]


HALF_MADE = {
    "user without role": [("auth/user/add", {"name": "{user}", "password": "from-a-dead-run"})],
    "role without grant": [("auth/role/add", {"name": "{user}"})],
    "role and grant, no user": [
        ("auth/role/add", {"name": "{user}"}),
        ("auth/role/grant", {"name": "{user}", "perm": {"permType": "READ", "key": "Lw==", "range_end": "MA=="}}),
    ],
}


@pytest.mark.parametrize("state", HALF_MADE)
def test_provision_converges_after_being_killed_half_way(etcd_datastore, new_tenant, state):
    """Whatever a dead run left (and whatever password it set), the next run completes the slice."""
    tenant = new_tenant(etcd_datastore)
    driver = driver_for(etcd_datastore)
    with driver.gateway() as etcd:
        for path, body in HALF_MADE[state]:
            etcd.call(path, json.loads(json.dumps(body).replace("{user}", etcd_user_for(tenant))))

    conn = driver.provision(tenant)
    view = admin_view(etcd_datastore, tenant)
    assert view["user"]["roles"] == [etcd_user_for(tenant)]
    assert view["role"]["perm"] == [{"key": b64(conn.prefix), "range_end": b64(prefix_range_end(conn.prefix.encode())),
                                     "permType": "READWRITE"}]  # and nothing else, even what a dead run granted
    with login_as(etcd_datastore, conn) as etcd:  # the tenant's own password works
        etcd.put(f"{conn.prefix}/registry/x", "mine")
    assert driver.usage(tenant) == 1


def test_provision_needs_the_ca_key_to_issue_identities(etcd_datastore, new_tenant):
    tenant = new_tenant(etcd_datastore)
    etcd_datastore.ca_key = ""
    with pytest.raises(DriverError, match="CA certificate and key"):
        driver_for(etcd_datastore).provision(tenant)


def test_health_of_the_real_etcd_is_recorded(etcd_datastore):
    healthy, message = check_health(etcd_datastore)
    etcd_datastore.refresh_from_db()
    assert healthy and etcd_datastore.healthy is True and message.startswith("etcd 3.6.16")
    assert etcd_datastore.health_checked_at is not None


def test_health_reports_an_unreachable_etcd_without_raising(etcd_datastore):
    etcd_datastore.endpoints = ["https://127.0.0.1:1"]
    etcd_datastore.save()
    healthy, message = check_health(etcd_datastore)
    etcd_datastore.refresh_from_db()
    assert healthy is False and etcd_datastore.healthy is False and "unreachable" in message


def test_a_wrong_root_password_is_refused_with_etcds_reason(etcd_datastore):
    etcd_datastore.password = "not-the-password"
    healthy, message = driver_for(etcd_datastore).health()
    assert healthy is False and "authentication failed" in message


def test_tenants_provisioned_at_the_same_time_all_get_their_slice(etcd_datastore, new_tenant):
    """Concurrent auth changes make etcd answer "revision of auth store is old": that is retried, not fatal."""
    from concurrent.futures import ThreadPoolExecutor

    tenants = [new_tenant(etcd_datastore) for _ in range(6)]
    driver = driver_for(etcd_datastore)
    with ThreadPoolExecutor(max_workers=6) as pool:
        conns = list(pool.map(driver.provision, tenants))
    assert [c.username for c in conns] == [etcd_user_for(t) for t in tenants]
    for tenant in tenants:
        assert admin_view(etcd_datastore, tenant)["user"]["roles"] == [etcd_user_for(tenant)]
