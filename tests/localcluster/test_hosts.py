"""A worker host is a namespace of the node's kind on its bridge: it reaches the node and MetalLB's
LoadBalancer addresses (answered by ARP from the speaker), and nothing else."""

import socket
import subprocess
import time

import pytest
from kubernetes import client as k8s

from localcluster import images, netns, network

pytestmark = pytest.mark.cluster


@pytest.fixture
def worker(management_cluster):
    host = netns.add_host("t1", network.WORKER_HOST_RANGE[0])
    yield host
    netns.remove_host("t1")
    assert "t1" not in netns.worker_names()


def connects(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=2).close()
        return True
    except OSError:
        return False


def test_a_worker_host_sits_on_the_bridge_with_its_own_address_and_no_way_out(worker):
    assert netns.add_host("t1", network.WORKER_HOST_RANGE[0]).address() == network.WORKER_HOST_RANGE[0]  # idempotent
    assert "t1" in netns.worker_names()
    routes = subprocess.run(worker.nsenter(["ip", "-4", "route"]), capture_output=True, text=True).stdout
    assert [r.split()[0] for r in routes.splitlines()] == [network.NODE_POD_CIDR]  # no default route
    with worker.inside():
        assert connects(network.BRIDGE_IP, 6443)  # the management apiserver on the node
    with pytest.raises(ValueError):
        netns.add_host("t2", "10.212.0.5")  # a pod's address, not a host's


def test_a_worker_host_reaches_a_load_balancer_address_announced_by_metallb(worker, management_cluster, namespace):
    core = k8s.CoreV1Api(management_cluster.api_client())
    labels = {"app": "kine"}
    # kine with its default SQLite backend listens on 2379: a TCP backend from the local images.
    core.create_namespaced_pod(namespace, k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(name="kine", labels=labels),
        spec=k8s.V1PodSpec(containers=[k8s.V1Container(
            name="kine", image=images.kine_ref(), image_pull_policy="IfNotPresent",
            args=["--listen-address", "0.0.0.0:2379"])])))
    core.create_namespaced_service(namespace, k8s.V1Service(
        metadata=k8s.V1ObjectMeta(name="lb"),
        spec=k8s.V1ServiceSpec(type="LoadBalancer", selector=labels,
                               ports=[k8s.V1ServicePort(port=12379, target_port=2379)])))
    deadline = time.monotonic() + 90
    address = None
    while time.monotonic() < deadline:
        ingress = core.read_namespaced_service("lb", namespace).status.load_balancer.ingress or []
        address = ingress[0].ip if ingress else None
        if address:
            with worker.inside():
                if connects(address, 12379):
                    break
        time.sleep(0.5)
    else:
        raise AssertionError(f"LoadBalancer address {address} not reachable from the worker host")
    neighbours = subprocess.run(worker.nsenter(["ip", "neigh", "show", address]), capture_output=True, text=True)
    # The speaker answered the ARP request with the node's bridge (its MAC is fixed: network.BRIDGE_MAC).
    assert neighbours.stdout.split("lladdr ")[1].split()[0] == network.BRIDGE_MAC
    assert f"link/ether {network.BRIDGE_MAC} " in network.ip("-o", "link", "show", network.BRIDGE).stdout
