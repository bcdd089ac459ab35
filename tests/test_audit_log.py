"""The audit log: the operator console page (table, filters, htmx fragment), a cluster's recent
activity on its page, and /api/audit/ scoped to the caller's organisations."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit import log as audit
from audit.models import AuditEvent
from audit.selectors import audit_events_for
from tenants.selectors import audit_events_visible_to

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def events(users):
    """One event per kind of scope: acme's cluster, globex's cluster, and a system-wide one."""
    ours = audit.record(users.owner, "cluster.create", users.cluster)
    theirs = audit.record(users.outsider, "cluster.update", users.other_cluster)
    system = audit.record(None, "user.create", users.staff, username="staff")
    old = audit.record(users.member, "cluster.kubeconfig.download", users.cluster, serial="abc")
    AuditEvent.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=10))
    return {"ours": ours, "theirs": theirs, "system": system, "old": old}


def ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def test_selector_scopes_to_the_callers_organisations(users, events):
    assert ids(audit_events_visible_to(users.staff)) == {e.pk for e in events.values()}
    for role in ("viewer", "member", "owner"):
        assert ids(audit_events_visible_to(users[role])) == {events["ours"].pk, events["old"].pk}
    assert ids(audit_events_visible_to(users.outsider)) == {events["theirs"].pk}


def test_a_clusters_recent_events_are_its_own_newest_first_at_most_ten(users, events):
    for i in range(12):
        audit.record(users.owner, "cluster.update", users.cluster, n=i)
    recent = list(audit_events_for(users.cluster))
    assert len(recent) == 10
    assert recent[0].data == {"n": 11}
    assert all(e.object_id == str(users.cluster.pk) for e in recent)


@pytest.mark.parametrize("role", ["viewer", "member", "owner", "staff"])
def test_the_cluster_page_shows_recent_activity(client, users, events, role):
    client.force_login(users[role])
    page = client.get(reverse("tenants:detail", kwargs={"pk": users.cluster.pk})).content.decode()
    assert 'id="audit-events"' in page
    assert "cluster.create" in page and "cluster.kubeconfig.download" in page
    assert "cluster.update" not in page  # globex's event is about another cluster


def test_console_page_lists_everything_and_links_from_the_overview(client, users, events):
    client.force_login(users.staff)
    assert reverse("console:audit") in client.get(reverse("console:overview")).content.decode()
    page = client.get(reverse("console:audit")).content.decode()
    assert "<html" in page and 'id="audit-filters"' in page
    assert "4 events" in page
    for action in ("cluster.create", "cluster.update", "user.create", "cluster.kubeconfig.download"):
        assert f'data-action="{action}"' in page
    assert "serial=abc" in page


@pytest.mark.parametrize(("query", "expected"), [
    ({"action": "cluster."}, {"ours", "theirs", "old"}),
    ({"action": "cluster.kubeconfig"}, {"old"}),
    ({"actor": "OWNER"}, {"ours"}),
    ({"organization": "globex"}, {"theirs"}),
    ({"q": "theirs"}, {"theirs"}),
    ({"q": "user"}, {"system"}),
    ({"at_before": (timezone.now() - timedelta(days=5)).date().isoformat()}, {"old"}),
    ({"at_after": (timezone.now() - timedelta(days=1)).date().isoformat()}, {"ours", "theirs", "system"}),
])
def test_filters_in_the_console_and_the_api_agree(client, users, events, query, expected):
    client.force_login(users.staff)
    fragment = client.get(reverse("console:audit"), query, **HTMX).content.decode()
    assert "<html" not in fragment
    assert f"{len(expected)} event" in fragment
    assert set(re.findall(r'data-action="([^"]+)"', fragment)) == {events[n].action for n in expected}

    api = APIClient()
    api.force_authenticate(users.staff)
    body = api.get("/api/audit/", query).json()
    assert {r["id"] for r in body["results"]} == {events[n].pk for n in expected}


def test_the_table_pages(client, users):
    for i in range(60):
        audit.record(users.owner, "cluster.update", users.cluster, n=i)
    client.force_login(users.staff)
    first = client.get(reverse("console:audit")).content.decode()
    assert "60 events" in first and 'rel="next"' in first
    assert '"n": 59' not in first and "n=59" in first  # newest first
    assert "n=0<" not in client.get(reverse("console:audit"), {"page": 1}).content.decode()
    assert "n=0<" in client.get(reverse("console:audit"), {"page": 2}).content.decode()


@pytest.mark.parametrize("role", ["viewer", "member", "owner"])
def test_api_members_read_only_their_organisations_events(users, events, role):
    api = APIClient()
    api.force_authenticate(users[role])
    body = api.get("/api/audit/").json()
    assert {r["id"] for r in body["results"]} == {events["ours"].pk, events["old"].pk}
    first = body["results"][0]
    assert first["organization"] == "acme" and first["actor"] == "owner" and first["action"] == "cluster.create"
    # Another organisation's slug filters to nothing rather than widening the scope.
    assert api.get("/api/audit/", {"organization": "globex"}).json()["count"] == 0


def test_api_is_read_only(users):
    api = APIClient()
    api.force_authenticate(users.staff)
    assert api.post("/api/audit/", {}, format="json").status_code == 405
    assert api.delete("/api/audit/").status_code == 405
