"""The process's one set of informers: who holds it, who hears of which kind (no cluster: the API
server is a loopback port nobody listens on, so the watches only retry)."""

import threading

import pytest
from kubernetes import client

from tenants import informers
from tenants.live.store import KINDS
from tests.waiting import free_port


@pytest.fixture
def unreachable_api():
    config = client.Configuration()
    config.host = f"https://127.0.0.1:{free_port()}"
    config.retries = False
    yield client.ApiClient(config)
    informers.stop_all()


def test_every_owned_kind_is_watched_once_and_the_controller_skips_only_events():
    assert [spec.kind for spec in informers.WATCHES] == list(KINDS)
    assert set(KINDS) - {"events"} == informers.CONTROLLER_KINDS
    assert {"pods", "deployments", "services", "events"} == informers.LIVE_KINDS
    # Secret and ConfigMap contents never reach this process through a watch.
    assert {s.kind for s in informers.WATCHES if s.metadata_only} == {"secrets", "configmaps"}


def test_changes_reach_the_subscribers_of_their_kind_even_if_another_subscriber_fails():
    heard: list[tuple[str, int, str]] = []

    def broken(pk, kind, at):
        raise RuntimeError("subscriber bug")

    informers.subscribe("a-broken", kinds=frozenset({"secrets"}), on_change=broken)
    informers.subscribe("controller", kinds=informers.CONTROLLER_KINDS,
                        on_change=lambda pk, kind, at: heard.append(("controller", pk, kind)))
    informers.subscribe("live", kinds=informers.LIVE_KINDS,
                        on_change=lambda pk, kind, at: heard.append(("live", pk, kind)))
    try:
        informers._changed(7, "secrets", 0.0)
        informers._changed(7, "events", 0.0)
        informers._changed(8, "pods", 0.0)
    finally:
        for name in ("a-broken", "controller", "live"):
            informers.unsubscribe(name)
    assert heard == [("controller", 7, "secrets"), ("live", 7, "events"),
                     ("controller", 8, "pods"), ("live", 8, "pods")]


def test_one_set_serves_the_controller_and_the_live_status_and_runs_while_anyone_holds_it(unreachable_api):
    held = informers.hold("controller-test", api_client=unreachable_api)
    assert len(held.watchers) == len(informers.WATCHES)
    assert not informers.serves_live()
    assert informers.start_live(api_client=unreachable_api) is held  # no second set of watches
    assert informers.serves_live()
    assert sum(t.name.startswith("informer-") for t in threading.enumerate()) == len(informers.WATCHES)

    informers.release("controller-test")  # the controller lost the lease: the pages keep their watches
    assert informers.running() is held
    informers.stop_live()
    assert informers.running() is None and not informers.serves_live()
    assert all(not w.is_alive() for w in held.watchers)
