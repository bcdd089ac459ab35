"""Following a container's log on the real cluster: bounded buffer, shared follower, stops when closed."""

import random
import threading
import time

import pytest

from tenants.live import logs
from tests.live import workload

pytestmark = pytest.mark.cluster


@pytest.fixture
def running_pod(management_cluster):
    api = management_cluster.api_client()
    pk = random.randint(900_000, 999_999)
    namespace = f"kui-{pk}-logs"
    workload.create(api, tenant_pk=pk, namespace=namespace, name="logs", ready_delay=1)
    (pod,) = workload.wait_ready(api, namespace, 1)
    yield api, namespace, pod
    workload.delete(api, namespace)


def test_follow_fills_a_bounded_buffer_and_the_last_close_ends_the_stream(running_pod):
    api, namespace, pod = running_pod
    updates: list[list[str]] = []
    got = threading.Event()

    def on_update(lines, error):
        updates.append(lines)
        if len(lines) >= 5:
            got.set()

    first = logs.follow(api_client=api, namespace=namespace, pod=pod, container=workload.CONTAINER,
                        on_update=on_update, max_lines=5)
    second = logs.follow(api_client=api, namespace=namespace, pod=pod, container=workload.CONTAINER,
                         on_update=lambda lines, error: None, max_lines=5)
    key = (namespace, pod, workload.CONTAINER)
    try:
        assert got.wait(30), "no log lines from etcd"
        assert max(len(u) for u in updates) == 5  # etcd logs far more than 5 lines at start: the buffer caps
        assert any('"msg"' in line for line in updates[-1])  # etcd's JSON log lines
        assert logs.active_followers().count(key) == 1  # two panels, one stream
        first.close()
        assert key in logs.active_followers()  # the second panel still has it open
    finally:
        second.close()
        first.close()
    assert key not in logs.active_followers()
    deadline = time.monotonic() + 10
    while any(t.name == f"live-log-{pod}-{workload.CONTAINER}" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "log follower thread still running after the last close"
        time.sleep(0.1)
