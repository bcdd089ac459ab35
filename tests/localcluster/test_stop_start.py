"""Stop leaves nothing behind and start works again, also after kill -9 of every node process.

These take the shared cluster down, so they run only when asked:
    KAMAJI_UI_TEST_STOP=1 .venv/bin/pytest tests/localcluster/test_stop_start.py -q
"""

import os
import signal
import subprocess

import pytest

from localcluster import cleanup, cluster, components

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(os.environ.get("KAMAJI_UI_TEST_STOP") != "1",
                       reason="stops the shared cluster; set KAMAJI_UI_TEST_STOP=1"),
]


def run_pods(name: str, replicas: int) -> None:
    """A Deployment of pause pods, so that stop has shims, namespaces, veths and volume mounts to clean."""
    kubectl = [components.k8s_bin("kubectl"), "--kubeconfig", str(cluster.start(quiet=True))]
    subprocess.run([*kubectl, "create", "deployment", name, "--image=registry.k8s.io/pause:3.10",
                    f"--replicas={replicas}"], check=True, capture_output=True)
    subprocess.run([*kubectl, "rollout", "status", f"deployment/{name}", "--timeout=120s"],
                   check=True, capture_output=True)


def test_stop_leaves_nothing_and_start_works_again():
    run_pods("stop-me", 2)
    assert cluster.stop() == {}
    assert cleanup.leftovers() == {}
    cluster.start()
    assert cluster.is_running()


def test_start_after_kill_9_of_every_node_process():
    run_pods("kill-me", 2)
    assert cleanup.kubepods_pids(), "pods should be running"
    for pid in cleanup.node_pids():
        os.kill(pid, signal.SIGKILL)
    assert not cluster.is_running()
    cluster.start()
    assert cluster.is_running()
    assert cluster.stop() == {}
    cluster.start()
