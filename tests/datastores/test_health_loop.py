"""Datastore health, checked periodically by the leading controller and shown on the operator console."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db.models.signals import post_save
from django.urls import reverse
from django.utils import timezone

from datastores.models import DataStore
from datastores.services.health import run_health_checks
from datastores.services.registration import register_local_datastores
from localcluster import datastore_servers
from tests.factories import make_datastore

INTERVAL = 0.2


@pytest.fixture
def local_etcd(db) -> DataStore:
    """The local etcd server (started if needed, left running for the other tests) as a DataStore row."""
    datastore_servers.start("etcd")
    return next(ds for ds in register_local_datastores() if ds.driver == DataStore.Driver.ETCD)


def run_loop_for(seconds: float, *, leading: bool) -> Counter:
    """Run the loop in this thread for `seconds`; how many times each datastore's health was saved."""
    saves: Counter = Counter()

    def count(sender, instance, update_fields=None, **kwargs):
        if update_fields and "health_checked_at" in update_fields:
            saves[instance.name] += 1

    post_save.connect(count, sender=DataStore, dispatch_uid="health-loop-test")
    stop, is_leading = threading.Event(), threading.Event()
    if leading:
        is_leading.set()
    timer = threading.Timer(seconds, stop.set)
    timer.start()
    try:
        run_health_checks(stop, is_leading, interval=INTERVAL)
    finally:
        timer.cancel()
        post_save.disconnect(dispatch_uid="health-loop-test", sender=DataStore)
    return saves


def test_the_leader_checks_every_datastore_again_and_again(local_etcd):
    # Nothing listens on port 1 (a refused PostgreSQL connection fails at once; etcd's client retries for 3 s).
    gone = make_datastore(name="gone", driver=DataStore.Driver.POSTGRESQL, endpoints=["127.0.0.1:1"],
                          username="kui", password="unused")

    saves = run_loop_for(1.5, leading=True)

    assert saves[local_etcd.name] >= 2 and saves["gone"] >= 2, saves
    local_etcd.refresh_from_db()
    gone.refresh_from_db()
    assert local_etcd.healthy is True and local_etcd.health_message.startswith("etcd ")
    assert gone.healthy is False and "127.0.0.1" in gone.health_message
    assert timezone.now() - gone.health_checked_at < timedelta(seconds=5)


def test_a_controller_that_does_not_lead_checks_nothing(db):
    datastore = make_datastore(name="idle", endpoints=["https://127.0.0.1:1"])

    assert run_loop_for(3 * INTERVAL, leading=False) == Counter()
    datastore.refresh_from_db()
    assert (datastore.healthy, datastore.health_checked_at) == (None, None)


def test_console_shows_health_with_the_time_of_the_last_check(client, users):
    checked = timezone.now() - timedelta(seconds=12)
    make_datastore(name="fine", healthy=True, health_message="etcd 3.6.16, 1 member", health_checked_at=checked)
    make_datastore(name="sick", healthy=False, health_message="unreachable: connection refused",
                   health_checked_at=checked)
    make_datastore(name="new")
    client.force_login(users.staff)

    html = client.get(reverse("console:overview")).content.decode()

    at = f'<time data-age datetime="{checked.isoformat()}"'
    assert html.count(at) == 2
    assert f'<span class="status status-true">healthy</span> <span class="muted nowrap">· checked {at}' in html
    assert '<span class="status status-false">unhealthy</span>' in html and "connection refused" in html
    assert '<span class="status">unknown</span> <span class="muted">· not checked yet</span>' in html
    assert ">12s</time> ago" in html or ">13s</time> ago" in html  # rendered with its age, then it ticks
