"""The controller's pure parts: schedule, backoff, lease expiry, phase, events (no cluster)."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from tenants.models import Phase
from tenants.services import status
from tenants.services.controller import MAX_BACKOFF, Schedule, backoff_seconds
from tenants.services.events import build_event
from tenants.services.leader import lease_expired, micro_time, parse_micro_time


def test_schedule_keeps_the_earliest_time_and_hands_out_each_key_once():
    schedule = Schedule()
    schedule.add(1, delay=10)
    schedule.add(1, delay=0)  # earlier wins
    schedule.add(2, delay=10)
    assert schedule.take(timeout=0.5) == 1
    assert schedule.take(timeout=0.1) is None  # 2 is not due yet, 1 is running
    schedule.add(1, delay=0)  # asked for while running: runs again right after
    schedule.done(1, requeue_after=None)
    assert schedule.is_scheduled(1)
    assert schedule.take(timeout=1.0) == 1


def test_schedule_requeues_after_the_asked_delay():
    schedule = Schedule()
    schedule.add(5)
    assert schedule.take(timeout=0.5) == 5
    schedule.done(5, requeue_after=0.2)
    started = time.monotonic()
    assert schedule.take(timeout=2.0) == 5
    assert time.monotonic() - started >= 0.15


def test_backoff_doubles_to_a_cap_with_jitter():
    assert 0.8 <= backoff_seconds(1) <= 1.2
    assert 3.2 <= backoff_seconds(3) <= 4.8
    assert backoff_seconds(20) <= MAX_BACKOFF * 1.2


def test_lease_expiry_uses_renew_time_and_duration():
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    fresh = {"renewTime": micro_time(now - timedelta(seconds=5)), "leaseDurationSeconds": 15}
    stale = {"renewTime": micro_time(now - timedelta(seconds=16)), "leaseDurationSeconds": 15}
    assert not lease_expired(fresh, now=now)
    assert lease_expired(stale, now=now)
    assert lease_expired({}, now=now)
    assert parse_micro_time(micro_time(now)) == now


@pytest.mark.parametrize(("conditions", "kw", "phase"), [
    ([{"type": "Ready", "status": "True"}], {}, Phase.READY),
    ([{"type": "Ready", "status": "False"}], {}, Phase.PROVISIONING),
    ([{"type": "Ready", "status": "False"}], {"ever_ready": True}, Phase.NOT_READY),
    ([{"type": "Ready", "status": "True"}], {"upgrading": True}, Phase.UPGRADING),
    ([{"type": "Ready", "status": "True"}], {"failed": True}, Phase.FAILED),
])
def test_phase_is_derived_from_conditions(conditions, kw, phase):
    args = {"upgrading": False, "ever_ready": False, "failed": False, **kw}
    assert status.derive_phase(conditions, **args) == phase


def test_event_names_the_object_it_is_about():
    anchor = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "demo-owner", "namespace": "kui-1-demo",
                                                                   "uid": "u-1"}}
    event = build_event(anchor, reason="Ready", message="serving", now=datetime(2026, 1, 1, tzinfo=UTC))
    assert event["involvedObject"] == {"apiVersion": "v1", "kind": "ConfigMap", "name": "demo-owner",
                                       "namespace": "kui-1-demo", "uid": "u-1"}
    assert event["metadata"]["generateName"] == "demo-owner."
    assert event["lastTimestamp"] == "2026-01-01T00:00:00Z"


def test_kubeconfig_refused_to_viewers_and_hidden_from_outsiders_before_any_cluster_call(users):
    from tenants.services.kubeconfig_download import issue_kubeconfig_for

    class NoCluster:  # any call to the cluster would fail the test
        def __getattr__(self, name):
            raise AssertionError(f"the cluster was asked: {name}")

    with pytest.raises(PermissionDenied):
        issue_kubeconfig_for(user=users.viewer, tenant=users.cluster, kube=NoCluster())
    with pytest.raises(Http404):
        issue_kubeconfig_for(user=users.outsider, tenant=users.cluster, kube=NoCluster())


def test_kubeconfig_unavailable_until_the_cluster_has_an_endpoint(users):
    from tenants.services.kubeconfig_download import KubeconfigUnavailable, issue_kubeconfig_for

    with pytest.raises(KubeconfigUnavailable):
        issue_kubeconfig_for(user=users.member, tenant=users.cluster, kube=None)
