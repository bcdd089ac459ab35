"""The operator console: staff only, the whole fleet, and datastores whose secrets are write-only."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from datastores.models import DataStore
from tenants.models import Phase
from tests.factories import make_datastore, make_tenant

pytestmark = pytest.mark.django_db

CLIENT_KEY = "-----BEGIN PRIVATE KEY-----\nsecret-client-key\n-----END PRIVATE KEY-----"


def datastore_data(**overrides) -> dict:
    data = {"name": "etcd-main", "driver": "etcd", "endpoints": "https://127.0.0.1:2379\nhttps://127.0.0.2:2379",
            "client_certificate": "-----BEGIN CERTIFICATE-----\ncert\n-----END CERTIFICATE-----",
            "client_key": CLIENT_KEY, "password": "s3cret-pw", "enabled": "on"}
    data.update(overrides)
    return data


@pytest.mark.parametrize("role", ["outsider", "viewer", "member", "owner"])
def test_non_staff_get_404_everywhere_in_the_console(client, users, role):
    datastore = make_datastore()
    client.force_login(users[role])
    for url in (reverse("console:overview"), reverse("console:datastore-create"),
                reverse("console:datastore-edit", args=[datastore.pk])):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("console:datastore-create"), datastore_data()).status_code == 404
    assert not DataStore.objects.filter(name="etcd-main").exists()


def test_overview_shows_every_organisations_clusters_not_ready_ones_and_datastore_usage(client, users):
    datastore = make_datastore(name="pg-one", driver=DataStore.Driver.POSTGRESQL, endpoints=["127.0.0.1:5432"])
    make_tenant(org=users.org, name="healthy", phase=Phase.READY, datastore=datastore)
    make_tenant(org=users.other_org, name="broken", phase=Phase.FAILED, datastore=datastore)
    client.force_login(users.staff)

    response = client.get(reverse("console:overview"))

    assert response.status_code == 200
    all_names = {row.record.name for row in response.context["clusters"].page.object_list}
    assert all_names == {"prod", "theirs", "healthy", "broken"}
    not_ready = {row.record.name for row in response.context["not_ready"].page.object_list}
    assert not_ready == {"prod", "theirs", "broken"}
    (row,) = response.context["datastores"].page.object_list
    assert (row.record.name, row.record.tenant_count, row.record.not_ready_count) == ("pg-one", 2, 1)
    assert "<html" not in client.get(reverse("console:overview"), HTTP_HX_REQUEST="true").content.decode()


def test_creating_a_datastore_is_audited_without_its_secrets(client, users):
    client.force_login(users.staff)
    response = client.post(reverse("console:datastore-create"), datastore_data())

    assert response.status_code == 302
    datastore = DataStore.objects.get(name="etcd-main")
    assert datastore.endpoints == ["https://127.0.0.1:2379", "https://127.0.0.2:2379"]
    assert (datastore.client_key, datastore.password) == (CLIENT_KEY, "s3cret-pw")
    event = AuditEvent.objects.get(action="datastore.create")
    assert event.actor == users.staff and event.object_id == str(datastore.pk)
    assert {"client_key", "password"} <= set(event.data["changed"])
    assert "secret" not in str(event.data)


def test_edit_never_shows_secrets_and_blank_keeps_them(client, users):
    datastore = make_datastore(name="etcd-main", client_certificate="cert", client_key=CLIENT_KEY, password="s3cret-pw")
    client.force_login(users.staff)
    url = reverse("console:datastore-edit", args=[datastore.pk])

    html = client.get(url).content.decode()
    assert "secret-client-key" not in html and "s3cret-pw" not in html
    assert "•••• (set)" in html

    response = client.post(url, datastore_data(client_key="", password="", max_tenants="10"))
    assert response.status_code == 302
    datastore.refresh_from_db()
    assert (datastore.client_key, datastore.password, datastore.max_tenants) == (CLIENT_KEY, "s3cret-pw", 10)
    event = AuditEvent.objects.get(action="datastore.update")
    assert "password" not in event.data["changed"] and "max_tenants" in event.data["changed"]


def test_a_stored_secret_can_be_removed_explicitly(client, users):
    datastore = make_datastore(name="pg", driver=DataStore.Driver.POSTGRESQL, endpoints=["127.0.0.1:5432"],
                               password="s3cret-pw")
    client.force_login(users.staff)
    response = client.post(reverse("console:datastore-edit", args=[datastore.pk]), {
        "name": "pg", "driver": "postgresql", "endpoints": "127.0.0.1:5432", "enabled": "on", "password": "",
        "clear_password": "on",
    })
    assert response.status_code == 302
    datastore.refresh_from_db()
    assert datastore.password == ""


@pytest.mark.parametrize(("overrides", "field"), [({"endpoints": ""}, "endpoints"), ({"client_key": ""}, "client_key"),
                                                   ({"name": "Not A Slug"}, "name")])
def test_bad_datastore_input_gives_a_field_error_and_saves_nothing(client, users, overrides, field):
    client.force_login(users.staff)
    response = client.post(reverse("console:datastore-create"), datastore_data(**overrides))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field] and len(errors[field]) == 1
    assert not DataStore.objects.exists()


def test_the_console_and_the_api_write_the_same_audit_record_for_a_datastore_change(client, users):
    via_ui, via_api = make_datastore(name="via-ui"), make_datastore(name="via-api")
    client.force_login(users.staff)
    response = client.post(reverse("console:datastore-edit", args=[via_ui.pk]), {
        "name": "via-ui", "driver": "etcd", "endpoints": "https://127.0.0.1:2379", "max_tenants": "3",
        "password": "new-pw", "enabled": "on"})
    assert response.status_code == 302
    api = APIClient()
    api.force_authenticate(users.staff)
    assert api.patch(f"/api/datastores/{via_api.pk}/", {"max_tenants": 3, "password": "new-pw"},
                     format="json").status_code == 200

    ui_event, api_event = (AuditEvent.objects.get(action="datastore.update", object_id=str(ds.pk))
                           for ds in (via_ui, via_api))
    assert ui_event.data == api_event.data == {"changed": ["max_tenants", "password"]}
