"""Stop leaves nothing behind and start works again, also after kill -9 of every node process.

These take the shared cluster down, so they run only when asked:
    KAMAJI_UI_TEST_STOP=1 .venv/bin/pytest tests/localcluster/test_stop_start.py -q
"""

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from localcluster import cleanup, cluster, components, netns, sysctls

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


ROOT_SYSCTLS = ("net/ipv4/ip_forward", "net/ipv4/conf/all/route_localnet", "net/ipv4/conf/all/forwarding",
                "net/ipv6/conf/all/forwarding", "net/bridge/bridge-nf-call-iptables")


def root_namespace_snapshot() -> dict[str, object]:
    """The machine's network namespace as a user of it sees it: rules, links, addresses, routes, sysctls."""
    def out(*argv: str) -> str:
        done = subprocess.run(argv, capture_output=True, text=True)
        return done.stdout if done.returncode == 0 else f"exit {done.returncode}"

    def rules(family: str) -> list[str]:  # without the packet counters, which move on their own
        return [re.sub(r"\[\d+:\d+\]", "", line) for line in out(family).splitlines() if not line.startswith("#")]

    def sysctl(name: str) -> str | None:
        path = Path("/proc/sys") / name
        return path.read_text().strip() if path.exists() else None

    return {
        "iptables": rules("iptables-save"), "ip6tables": rules("ip6tables-save"),
        "nft": out("nft", "-s", "list", "ruleset"),
        "links": sorted(line.split(":")[1].strip() for line in out("ip", "-o", "link").splitlines()),
        "addresses": out("ip", "-o", "addr"),
        "routes": out("ip", "route", "show", "table", "all"),
        "routes6": out("ip", "-6", "route", "show", "table", "all"),
        "net sysctls": {name: sysctl(name) for name in ROOT_SYSCTLS},
        "machine-wide sysctls": {name: sysctls.read(name) for name in sysctls.CHANGED_BY_NODE},
    }


def test_the_machine_namespace_is_untouched_while_running_and_exactly_as_before_after_stop():
    assert not netns.is_inside(), "this test runs in the machine's namespace"
    assert cluster.stop() == {}
    before = root_namespace_snapshot()
    cluster.start()
    running = root_namespace_snapshot()
    # kubelet sets a few machine-wide vm/kernel values (Linux does not namespace them); stop restores them.
    assert {k: v for k, v in running.items() if k != "machine-wide sysctls"} == {
        k: v for k, v in before.items() if k != "machine-wide sysctls"}
    assert cluster.stop() == {}
    assert root_namespace_snapshot() == before
    cluster.start()
