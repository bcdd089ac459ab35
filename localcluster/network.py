"""The local cluster's addresses: a bridge of its own and ranges no interface of the machine uses.

All of it lives in the node's network namespace (`netns.py`), whose only interfaces are loopback,
the bridge and the pods' veths: there is no way off the machine to route or masquerade to. Its
routes are the bridge's subnet and the service range (onto the bridge, so that a connection to a
ClusterIP has a route for kube-proxy's DNAT to rewrite); nothing else, no default route.
"""

import subprocess

BRIDGE = "kui0"
BRIDGE_IP = "10.212.0.1"  # the node's address: apiserver advertise address, NodePorts, datastores
POD_CIDR = "10.212.0.0/16"
NODE_POD_CIDR = "10.212.0.0/24"  # the one node's slice; the bridge's gateway is its first address
SERVICE_CIDR = "10.213.0.0/16"
CLUSTER_DNS_IP = "10.213.0.10"
CLUSTER_DOMAIN = "cluster.local"


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


def ensure_bridge() -> None:
    """Create the bridge with the node address (idempotent). The CNI bridge plugin reuses it."""
    if ip("link", "show", BRIDGE, check=False).returncode != 0:
        ip("link", "add", BRIDGE, "type", "bridge")
    prefix = NODE_POD_CIDR.split("/")[1]
    if f"{BRIDGE_IP}/{prefix}" not in ip("-4", "addr", "show", BRIDGE).stdout:
        ip("addr", "add", f"{BRIDGE_IP}/{prefix}", "dev", BRIDGE)
    ip("link", "set", BRIDGE, "up")
    ip("route", "replace", SERVICE_CIDR, "dev", BRIDGE, "src", BRIDGE_IP)


def delete_bridge() -> None:
    if ip("link", "show", BRIDGE, check=False).returncode == 0:
        ip("link", "delete", BRIDGE)
