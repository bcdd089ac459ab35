"""Fragments: the page's own partials, marked for out-of-band swaps."""

import re

import pytest

from tenants.live import fragments
from tenants.live.store import ObjectStore
from tests.factories import make_org, make_tenant, make_upgrade


def test_as_oob_marks_the_root_element_only():
    assert fragments.as_oob('\n<section id="pods"><div id="x"></div></section>') == \
        '\n<section hx-swap-oob="true" id="pods"><div id="x"></div></section>'
    already = '<span id="s" hx-swap-oob="innerHTML"></span>'
    assert fragments.as_oob(already) == already
    assert fragments.as_oob("  ") == "  "


def test_pods_section_renders_rows_from_the_store():
    store = ObjectStore()
    store.apply("pods", "ADDED", {
        "metadata": {"name": "cp-1", "namespace": "kui-3-a", "labels": {"kamaji-ui/tenant": "3"},
                     "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"containers": [{"name": "kube-apiserver"}], "nodeName": "n"},
        "status": {"phase": "Pending", "containerStatuses": [
            {"name": "kube-apiserver", "ready": False, "restartCount": 0,
             "state": {"waiting": {"reason": "ContainerCreating"}}}]},
    })
    html = fragments.render_section("pods", tenant_pk=3, objects=store)
    assert html.lstrip().startswith('<section hx-swap-oob="true" class="card" id="pods"')
    assert 'data-pod="cp-1" data-phase="Pending" data-ready="false"' in html and "ContainerCreating" in html
    assert fragments.log_targets(3, store) == {"cp-1/kube-apiserver"}
    assert '<input type="hidden" name="container" value="cp-1/kube-apiserver">' in html  # its log button


@pytest.mark.django_db
def test_status_sections_use_the_detail_page_partials():
    tenant = make_tenant(org=make_org(), name="prod", phase="Upgrading", endpoint="10.212.0.1:31000")
    make_upgrade(tenant=tenant, to_version="v1.35.4", state="Running", steps=[{"at": "t", "message": "rolling"}])
    phase = fragments.render_section("phase", tenant_pk=tenant.pk, objects=ObjectStore())
    status = fragments.render_section("status", tenant_pk=tenant.pk, objects=ObjectStore())
    assert f'''hx-swap-oob="outerHTML:[data-phase-of='{tenant.pk}']"''' in phase and "Upgrading" in phase
    for element_id in ("conditions", "endpoint", "upgrades"):
        assert re.search(rf'<\w+ hx-swap-oob="true"[^>]*id="{element_id}"', status), element_id
    assert "10.212.0.1:31000" in status and "rolling" in status
    assert fragments.render_section("phase", tenant_pk=tenant.pk + 1000, objects=ObjectStore()) is None


def test_live_status_says_when_the_clusters_data_went_stale():
    live = fragments.render_live_status(connected=True, source="watch")
    stale = fragments.render_live_status(connected=True, source="watch", stale_since=1_767_225_600.0)
    assert 'id="live-status"' in live and "● Live" in live and "live-on" in live
    assert "Cluster unreachable since 00:00:00" in stale and "live-off" in stale
    assert 'data-stale-since="2026-01-01T00:00:00+00:00"' in stale
