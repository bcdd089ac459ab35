"""The node's network namespace: a thread joins it for a block and comes back; the machine's stays pinned."""

import socket
import subprocess
import threading

from localcluster import forwarder, netns


def links() -> set[str]:
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines()}


def test_inside_and_on_host_switch_only_the_calling_thread_and_come_back():
    netns.ensure()
    start_inside = netns.is_inside()  # the test session itself lives in the node's namespace
    with netns.on_host():
        assert not netns.is_inside()
        assert "eth0" in links() or "lo" in links()
        seen_by_other_thread = []
        other = threading.Thread(target=lambda: seen_by_other_thread.append(netns.is_inside()))
        other.start()
        other.join()
        assert seen_by_other_thread == [False]  # a thread started here inherits the namespace
        with netns.inside():
            assert netns.is_inside()
            assert "eth0" not in links()
        assert not netns.is_inside()
    assert netns.is_inside() == start_inside


def test_a_socket_keeps_the_namespace_it_was_made_in():
    with netns.inside():
        listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    try:
        with netns.on_host():
            refused = socket.socket()
            assert refused.connect_ex(("127.0.0.1", port)) != 0  # the machine's loopback is another one
            refused.close()
        with netns.inside():
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        listener.close()


def test_the_forwarder_publishes_every_node_port_and_nothing_else():
    services = [
        {"spec": {"type": "NodePort", "ports": [{"port": 6443, "nodePort": 31001}, {"port": 80, "nodePort": 31002}]}},
        {"spec": {"type": "LoadBalancer", "ports": [{"port": 6443, "nodePort": 31003}]}},
        {"spec": {"type": "LoadBalancer", "allocateLoadBalancerNodePorts": False, "ports": [{"port": 6443}]}},
        {"spec": {"type": "ClusterIP", "ports": [{"port": 443}]}},
    ]
    assert forwarder.node_ports(services) == {31001, 31002, 31003}
