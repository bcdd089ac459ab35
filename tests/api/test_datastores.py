"""Datastores through the REST API: operators only, secrets write-only and encrypted at rest."""

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.db import connection

from audit.models import AuditEvent
from datastores.models import DataStore
from tests.factories import make_datastore, make_tenant

LIST = "/api/datastores/"
SECRETS = ("ca_key", "client_key", "password")


def client_identity() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "root")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def stored_column(pk: int, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {DataStore._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_operator_registers_a_datastore_and_never_reads_its_secrets_back(users, api):
    cert, key = client_identity()
    response = api(users.staff).post(LIST, {
        "name": "etcd-1", "driver": "etcd", "endpoints": ["https://127.0.0.1:2379"],
        "client_certificate": cert, "client_key": key, "ca_key": key, "password": "s3cret-pw",
    }, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert not set(SECRETS) & set(body)
    assert (body["client_key_set"], body["ca_key_set"], body["password_set"]) == (True, True, True)
    assert body["tenant_count"] == 0
    datastore = DataStore.objects.get(name="etcd-1")
    assert datastore.client_key == key  # the app reads the plain text ...
    for column in SECRETS:  # ... the database holds only ciphertext
        raw = stored_column(datastore.pk, column)
        assert raw.startswith("fernet:") and "s3cret-pw" not in raw and "PRIVATE KEY" not in raw
    event = AuditEvent.objects.get(action="datastore.create")
    assert "s3cret-pw" not in str(event.data) and "PRIVATE KEY" not in str(event.data)
    for read in (api(users.staff).get(f"{LIST}{datastore.pk}/"), api(users.staff).get(LIST)):
        assert "PRIVATE KEY" not in read.content.decode() and "s3cret-pw" not in read.content.decode()


def test_patch_without_secrets_keeps_them_and_empty_clears(users, api):
    datastore = make_datastore(driver="postgresql", endpoints=["127.0.0.1:5432"], username="kine", password="pw")
    client = api(users.staff)
    response = client.patch(f"{LIST}{datastore.pk}/", {"max_tenants": 10}, format="json")
    assert response.status_code == 200, response.json()
    datastore.refresh_from_db()
    assert (datastore.max_tenants, datastore.password) == (10, "pw")
    assert client.patch(f"{LIST}{datastore.pk}/", {"password": ""}, format="json").json()["password_set"] is False


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"endpoints": []}, "endpoints"),
        ({"endpoints": "127.0.0.1:2379"}, "endpoints"),
        ({"client_certificate": "-----BEGIN CERTIFICATE-----"}, "client_key"),
        ({"driver": "mongodb"}, "driver"),
        ({"name": "Not A Slug"}, "name"),
    ],
    ids=["no-endpoints", "endpoints-not-a-list", "cert-without-key", "unknown-driver", "bad-name"],
)
def test_bad_datastore_is_a_field_error(users, api, payload, field):
    response = api(users.staff).post(
        LIST, {"name": "ds", "driver": "etcd", "endpoints": ["https://127.0.0.1:2379"], **payload}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not DataStore.objects.exists()


def test_a_datastore_in_use_cannot_be_removed(users, api):
    datastore = make_datastore()
    make_tenant(org=users.org, name="pinned", datastore=datastore)
    response = api(users.staff).delete(f"{LIST}{datastore.pk}/")
    assert response.status_code == 409
    assert "pinned" in response.json()["detail"]
    assert DataStore.objects.filter(pk=datastore.pk).exists()


def test_operator_removes_an_unused_datastore(users, api):
    datastore = make_datastore()
    assert api(users.staff).delete(f"{LIST}{datastore.pk}/").status_code == 204
    assert not DataStore.objects.exists()
    assert AuditEvent.objects.filter(action="datastore.delete", object_id=str(datastore.pk)).exists()


@pytest.mark.parametrize("role", ["outsider", "viewer", "member", "owner"])
def test_everyone_but_operators_gets_404(users, api, role):
    datastore = make_datastore()
    client = api(users[role])
    assert client.get(LIST).status_code == 404
    assert client.get(f"{LIST}{datastore.pk}/").status_code == 404
    assert client.post(LIST, {"name": "x", "driver": "etcd", "endpoints": ["a:1"]}, format="json").status_code == 404
    assert client.delete(f"{LIST}{datastore.pk}/").status_code == 404
    assert DataStore.objects.count() == 1


def test_anonymous_gets_401(users, api):
    assert api().get(LIST).status_code == 401
