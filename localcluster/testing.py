"""What tests get from the local management cluster: a handle on it, and throwaway namespaces.

`ensure_management_cluster()` starts the cluster once per machine (reusing one that is up)
and never stops it: a test run may share it with other runs, and `.ci/run` stops it at the end
(`python -m localcluster stop`). The pytest fixtures `management_cluster` and `namespace` in
tests/conftest.py wrap these functions.
"""

import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from . import cluster, components, network, pki


@dataclass(frozen=True)
class ManagementCluster:
    kubeconfig: Path
    node_name: str
    node_ip: str  # the bridge address: NodePorts answer here (and on 127.0.0.1)
    # The management etcd, reachable from pods: a datastore for throwaway tenant control planes.
    etcd_endpoint: str
    etcd_ca: Path
    etcd_client_cert: Path
    etcd_client_key: Path

    def api_client(self):
        """A fresh kubernetes.client.ApiClient with the admin kubeconfig."""
        return cluster.api_client(self.kubeconfig)


def ensure_management_cluster() -> ManagementCluster:
    """Start the cluster unless it is up already, and describe it."""
    kubeconfig = cluster.start(quiet=True)
    return ManagementCluster(
        kubeconfig=kubeconfig,
        node_name=pki.NODE_NAME,
        node_ip=network.BRIDGE_IP,
        etcd_endpoint=components.etcd_endpoints()[1],
        etcd_ca=pki.pki_file("etcd/ca.crt"),
        etcd_client_cert=pki.pki_file("apiserver-etcd-client.crt"),
        etcd_client_key=pki.pki_file("apiserver-etcd-client.key"),
    )


def create_namespace(api_client, *, prefix: str = "test", timeout: float = 30) -> str:
    """Create a uniquely named namespace and wait for its default ServiceAccount (pods need it)."""
    from kubernetes import client as k8s
    from kubernetes.client.rest import ApiException

    core = k8s.CoreV1Api(api_client)
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(
        name=name, labels={"kamaji-ui.test/namespace": "true"})))
    deadline = time.monotonic() + timeout
    while True:
        try:
            core.read_namespaced_service_account("default", name)
            return name
        except ApiException as exc:
            if exc.status != 404 or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def delete_namespace(api_client, name: str, *, wait: bool = False, timeout: float = 60) -> None:
    """Delete a namespace (and so everything in it); optionally wait until it is gone."""
    from kubernetes import client as k8s
    from kubernetes.client.rest import ApiException

    core = k8s.CoreV1Api(api_client)
    try:
        core.delete_namespace(name, grace_period_seconds=0)
    except ApiException as exc:
        if exc.status == 404:
            return
        raise
    deadline = time.monotonic() + timeout
    while wait and time.monotonic() < deadline:
        try:
            core.read_namespace(name)
        except ApiException as exc:
            if exc.status == 404:
                return
            raise
        time.sleep(0.5)


