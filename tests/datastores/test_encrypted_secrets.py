"""Datastore secrets are encrypted at rest: the raw database column never holds the plain text."""

import pytest
from django.db import connection

from datastores.models import DataStore
from tests.factories import make_datastore

pytestmark = pytest.mark.django_db

SECRETS = {"client_key": "-----BEGIN PRIVATE KEY-----\nplain-client-key\n-----END PRIVATE KEY-----",
           "ca_key": "-----BEGIN PRIVATE KEY-----\nplain-ca-key\n-----END PRIVATE KEY-----",
           "password": "plain-password"}


def test_raw_columns_hold_ciphertext_and_the_model_reads_plain_text():
    datastore = make_datastore(client_certificate="-----BEGIN CERTIFICATE-----\nc\n-----END CERTIFICATE-----",
                               **SECRETS)
    columns = ", ".join(connection.ops.quote_name(c) for c in SECRETS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {DataStore._meta.db_table} WHERE id = %s", [datastore.pk])
        raw = dict(zip(SECRETS, cursor.fetchone(), strict=True))
    for field, plain in SECRETS.items():
        assert raw[field].startswith("fernet:"), field
        assert plain not in raw[field] and "plain" not in raw[field], field
    reloaded = DataStore.objects.get(pk=datastore.pk)
    assert {f: getattr(reloaded, f) for f in SECRETS} == SECRETS
