"""Clusters through the REST API: scoping, creation with the forms' rules, changes, deletion."""

import pytest
from django.conf import settings

from audit.models import AuditEvent
from tenants.live.publish import publisher
from tenants.models import Phase, TenantControlPlane
from tenants.services import queue
from tests.factories import make_datastore, make_tenant

LIST = "/api/clusters/"
NEXT_VERSION = settings.KUBERNETES_VERSIONS[-1]


def detail(cluster) -> str:
    return f"/api/clusters/{cluster.pk}/"


def names(response) -> set[str]:
    return {c["name"] for c in response.json()["results"]}


@pytest.mark.parametrize(
    "role, expected",
    [("outsider", {"theirs"}), ("viewer", {"prod"}), ("member", {"prod"}), ("owner", {"prod"}),
     ("staff", {"prod", "theirs"})],
)
def test_list_holds_only_the_callers_organisations_clusters(users, api, role, expected):
    response = api(users[role]).get(LIST)
    assert response.status_code == 200
    assert names(response) == expected


def test_list_filters_with_the_shared_filterset(users, api):
    make_tenant(org=users.org, name="staging", phase=Phase.READY)
    client = api(users.member)
    assert names(client.get(LIST, {"phase": "Ready"})) == {"staging"}
    assert names(client.get(LIST, {"q": "stag"})) == {"staging"}
    # Filtering cannot widen the scope: another organisation's slug yields nothing.
    assert names(client.get(LIST, {"organization": users.other_org.slug})) == set()


def test_anonymous_script_is_told_to_authenticate_with_a_token(users, api):
    response = api().get(LIST)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_retrieve_shows_spec_and_read_only_status(users, api):
    users.cluster.set_condition("Ready", False, "Provisioning", "waiting for the apiserver")
    users.cluster.save()
    body = api(users.viewer).get(detail(users.cluster)).json()
    assert body["organization"] == "acme"
    assert body["name"] == "prod"
    assert body["phase"] == "Pending"
    assert body["conditions"][0]["reason"] == "Provisioning"
    assert {"endpoint", "observed_version", "generation", "observed_generation"} <= set(body)


def test_member_creates_a_cluster_and_it_is_audited(users, api):
    response = api(users.member).post(
        LIST, {"organization": "acme", "name": "dev", "cert_sans": ["dev.example.test", "10.0.0.1"]}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    tenant = TenantControlPlane.objects.get(pk=body["id"])
    assert (tenant.organization, tenant.name, tenant.created_by) == (users.org, "dev", users.member)
    assert body["phase"] == "Pending" and body["created_by"] == "member"
    assert body["kubernetes_version"] == settings.DEFAULT_KUBERNETES_VERSION
    assert AuditEvent.objects.filter(action="cluster.create", object_id=str(tenant.pk), actor=users.member).exists()


def test_status_fields_cannot_be_written(users, api):
    response = api(users.member).post(
        LIST, {"organization": "acme", "name": "sneaky", "phase": "Ready", "endpoint": "1.2.3.4:6443"}, format="json"
    )
    assert response.status_code == 201
    tenant = TenantControlPlane.objects.get(name="sneaky")
    assert (tenant.phase, tenant.endpoint) == (Phase.PENDING, "")


GOOD = {"organization": "acme", "name": "new"}
BAD_INPUT = [
    pytest.param({"name": "Bad_Name"}, "name", "DNS-1123", id="name-not-a-dns-label"),
    pytest.param({"name": "x" * 41}, "name", "At most 40", id="name-too-long"),
    pytest.param({"name": "prod"}, "name", "already has a cluster named 'prod'", id="name-taken-in-org"),
    pytest.param({"pod_cidr": "10.96.0.0/12", "service_cidr": "10.96.0.0/16"}, "service_cidr", "overlaps",
                 id="overlapping-cidrs"),
    pytest.param({"pod_cidr": "10.244.0.1/16"}, "pod_cidr", "CIDR", id="cidr-host-bits-set"),
    pytest.param({"dns_service_ip": "10.97.0.10"}, "dns_service_ip", "inside the service network",
                 id="dns-ip-outside-services"),
    pytest.param({"kubernetes_version": "v1.20.0"}, "kubernetes_version", "not supported", id="unknown-version"),
    pytest.param({"cert_sans": ["ok.example.test", "bad_san!"]}, "cert_sans", "bad_san!", id="bad-san"),
    pytest.param({"cert_sans": "not-a-list"}, "cert_sans", "list", id="sans-not-a-list"),
    pytest.param({"replicas": 9}, "replicas", "5", id="too-many-replicas"),
    pytest.param({"service_type": "Ingress"}, "service_type", "not a valid choice", id="unknown-service-type"),
    pytest.param({"organization": "nope"}, "organization", "No organisation 'nope'", id="unknown-org"),
    pytest.param({"organization": "globex"}, "organization", "No organisation 'globex'", id="someone-elses-org"),
    pytest.param({"datastore": 1}, "datastore", "leave it empty", id="non-operator-picks-datastore"),
]


@pytest.mark.parametrize("change, field, message", BAD_INPUT)
def test_bad_input_is_a_field_error_and_creates_nothing(users, api, change, field, message):
    make_datastore()
    before = TenantControlPlane.objects.count()
    response = api(users.member).post(LIST, {**GOOD, **change}, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert field in errors, errors
    assert any(message in m for m in errors[field]), errors
    assert TenantControlPlane.objects.count() == before
    assert not AuditEvent.objects.filter(action="cluster.create").exists()


def test_several_wrong_fields_are_reported_together(users, api):
    response = api(users.member).post(
        LIST, {**GOOD, "pod_cidr": "10.96.0.0/12", "service_cidr": "10.96.0.0/16", "dns_service_ip": "10.200.0.1"},
        format="json",
    )
    assert response.status_code == 400
    assert {"service_cidr", "dns_service_ip"} <= set(response.json())


def test_viewer_cannot_create_in_their_own_organisation(users, api):
    response = api(users.viewer).post(LIST, GOOD, format="json")
    assert response.status_code == 400
    assert "organization" in response.json()
    assert not TenantControlPlane.objects.filter(name="new").exists()


def test_operator_may_pin_a_datastore(users, api):
    datastore = make_datastore()
    response = api(users.staff).post(LIST, {**GOOD, "datastore": datastore.pk}, format="json")
    assert response.status_code == 201, response.json()
    assert TenantControlPlane.objects.get(name="new").datastore == datastore


def test_patch_changes_what_may_change_and_bumps_generation(users, api):
    response = api(users.member).patch(detail(users.cluster), {"replicas": 3}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["replicas"] == 3
    users.cluster.refresh_from_db()
    assert (users.cluster.replicas, users.cluster.generation) == (3, 2)
    assert AuditEvent.objects.filter(action="cluster.update", object_id=str(users.cluster.pk)).exists()


def test_patch_of_a_fixed_field_is_refused_not_ignored(users, api):
    response = api(users.owner).patch(detail(users.cluster), {"name": "renamed", "pod_cidr": "10.1.0.0/16"},
                                      format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"name", "pod_cidr"}
    users.cluster.refresh_from_db()
    assert users.cluster.name == "prod"


def test_patch_with_a_bad_value_is_a_field_error(users, api):
    response = api(users.member).patch(detail(users.cluster), {"cert_sans": ["-bad-"]}, format="json")
    assert response.status_code == 400
    assert "cert_sans" in response.json()


def test_put_is_not_offered(users, api):
    assert api(users.owner).put(detail(users.cluster), {}, format="json").status_code == 405


@pytest.mark.parametrize("role, expected", [("viewer", 403), ("outsider", 404)])
def test_changes_by_viewer_are_forbidden_and_by_outsider_not_found(users, api, role, expected):
    client = api(users[role])
    assert client.patch(detail(users.cluster), {"replicas": 2}, format="json").status_code == expected
    assert client.delete(detail(users.cluster)).status_code == expected
    users.cluster.refresh_from_db()
    assert (users.cluster.replicas, users.cluster.phase) == (1, Phase.PENDING)


def test_delete_is_accepted_and_marks_the_cluster_deleting(users, api):
    response = api(users.member).delete(detail(users.cluster))
    assert response.status_code == 202
    assert response.json()["phase"] == "Deleting"
    users.cluster.refresh_from_db()
    assert users.cluster.phase == Phase.DELETING
    assert AuditEvent.objects.filter(action="cluster.delete", object_id=str(users.cluster.pk)).count() == 1
    # Deleting twice is harmless and not audited twice.
    assert api(users.owner).delete(detail(users.cluster)).status_code == 202
    assert AuditEvent.objects.filter(action="cluster.delete", object_id=str(users.cluster.pk)).count() == 1


def test_a_deleting_cluster_cannot_be_changed(users, api):
    api(users.member).delete(detail(users.cluster))
    response = api(users.member).patch(detail(users.cluster), {"replicas": 2}, format="json")
    assert response.status_code == 400
    assert "being deleted" in response.json()["non_field_errors"][0]


def test_unknown_and_malformed_ids_are_404(users, api):
    client = api(users.staff)
    assert client.get("/api/clusters/999999/").status_code == 404
    assert client.get("/api/clusters/abc/").status_code == 404


def drain_reconcile_queue() -> list[int]:
    keys = []
    while (key := queue.next_key(timeout=0)) is not None:
        keys.append(key)
    return keys


def test_changes_hand_the_cluster_to_the_controller_only_after_commit(
    users, api, django_capture_on_commit_callbacks, monkeypatch
):
    # Running every on-commit callback would also wake the live-status publisher thread, which
    # reads this test's uncommitted database from another thread; it has its own tests.
    monkeypatch.setattr(publisher, "changed", lambda *args, **kwargs: None)
    drain_reconcile_queue()
    with django_capture_on_commit_callbacks(execute=True):
        created = api(users.member).post(LIST, GOOD, format="json").json()["id"]
        api(users.member).delete(detail(users.cluster))
        api(users.member).post(LIST, {**GOOD, "name": "Bad_Name"}, format="json")  # refused: nothing to do
        assert drain_reconcile_queue() == []  # not before the transaction commits
    assert drain_reconcile_queue() == [created, users.cluster.pk]
