"""Upgrades through the REST API: one minor at a time, never down, scoped like clusters."""

import pytest
from django.conf import settings

from audit.models import AuditEvent
from tenants.models import Phase, Upgrade
from tests.factories import make_upgrade

OLD, NEW = settings.KUBERNETES_VERSIONS[0], settings.KUBERNETES_VERSIONS[1]


def upgrades_url(cluster) -> str:
    return f"/api/clusters/{cluster.pk}/upgrades/"


@pytest.fixture
def old_cluster(users):
    users.cluster.kubernetes_version = OLD
    users.cluster.save()
    return users.cluster


def test_member_requests_the_next_minor(users, api, old_cluster):
    response = api(users.member).post(upgrades_url(old_cluster), {"to_version": NEW}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["from_version"], body["to_version"], body["state"]) == (OLD, NEW, "Pending")
    assert body["requested_by"] == "member"
    old_cluster.refresh_from_db()
    assert (old_cluster.kubernetes_version, old_cluster.phase) == (NEW, Phase.UPGRADING)
    assert AuditEvent.objects.filter(action="cluster.upgrade", object_id=str(old_cluster.pk)).exists()


@pytest.mark.parametrize(
    "to_version, message",
    [("v1.99.0", "not supported"), (OLD, "already runs")],
    ids=["unknown-version", "same-version"],
)
def test_bad_target_is_a_to_version_error(users, api, old_cluster, to_version, message):
    response = api(users.member).post(upgrades_url(old_cluster), {"to_version": to_version}, format="json")
    assert response.status_code == 400
    assert any(message in m for m in response.json()["to_version"])
    assert not Upgrade.objects.exists()


def test_downgrade_is_refused(users, api):
    response = api(users.member).post(upgrades_url(users.cluster), {"to_version": OLD}, format="json")
    assert response.status_code == 400
    assert "Downgrades" in response.json()["to_version"][0]


def test_second_upgrade_while_one_runs_is_refused(users, api, old_cluster):
    make_upgrade(tenant=old_cluster, to_version=NEW, state=Upgrade.State.RUNNING)
    response = api(users.member).post(upgrades_url(old_cluster), {"to_version": NEW}, format="json")
    assert response.status_code == 400
    assert "already in progress" in response.json()["to_version"][0]


@pytest.mark.parametrize("role, expected", [("viewer", 403), ("outsider", 404)])
def test_upgrade_by_viewer_forbidden_by_outsider_not_found(users, api, old_cluster, role, expected):
    response = api(users[role]).post(upgrades_url(old_cluster), {"to_version": NEW}, format="json")
    assert response.status_code == expected
    assert not Upgrade.objects.exists()


def test_cluster_upgrade_history_is_visible_to_viewers_only_in_scope(users, api):
    make_upgrade(tenant=users.cluster, state=Upgrade.State.SUCCEEDED)
    assert api(users.viewer).get(upgrades_url(users.cluster)).json()["count"] == 1
    assert api(users.outsider).get(upgrades_url(users.cluster)).status_code == 404


@pytest.mark.parametrize(
    "role, expected", [("outsider", {"theirs"}), ("viewer", {"prod"}), ("staff", {"prod", "theirs"})]
)
def test_upgrade_list_is_scoped(users, api, role, expected):
    make_upgrade(tenant=users.cluster)
    make_upgrade(tenant=users.other_cluster)
    body = api(users[role]).get("/api/upgrades/").json()
    assert {u["cluster_name"] for u in body["results"]} == expected


def test_filtering_by_a_hidden_cluster_looks_like_filtering_by_a_missing_one(users, api):
    make_upgrade(tenant=users.cluster)
    client = api(users.outsider)
    hidden = client.get("/api/upgrades/", {"cluster": users.cluster.pk})
    missing = client.get("/api/upgrades/", {"cluster": 999_999})
    assert hidden.status_code == missing.status_code == 200
    assert hidden.json() == missing.json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert api(users.viewer).get("/api/upgrades/", {"cluster": users.cluster.pk}).json()["count"] == 1
