"""The management cluster's PKI and kubeconfigs, made by the node's own kubeadm.

`kubeadm init phase certs all` and `kubeadm init phase kubeconfig all` write into directories
we choose, so nothing lands in /etc. The apiserver and etcd certificates name both 127.0.0.1
and the bridge address, so the host and the pods reach them under either.
"""

import json
import subprocess
from pathlib import Path

from . import network, paths, versions

NODE_NAME = "kui-node"
CLUSTER_NAME = "kamaji-ui-local"
APISERVER_PORT = 6443
# Loopback works inside the node's namespace (the apiserver listens on all its addresses) and on the
# machine (the forwarder publishes the port there): the admin kubeconfig names it.
APISERVER_URL = f"https://127.0.0.1:{APISERVER_PORT}"
ETCD_CLIENT_PORT = 2379
ETCD_PEER_PORT = 2380


def kubeadm_bin() -> Path:
    return paths.bin_dir("kubernetes", versions.MANAGEMENT) / "kubeadm"


def kubeadm_config() -> str:
    """kubeadm's InitConfiguration + ClusterConfiguration for this node (JSON is valid YAML)."""
    init = {
        "apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "InitConfiguration",
        "localAPIEndpoint": {"advertiseAddress": network.BRIDGE_IP, "bindPort": APISERVER_PORT},
        "nodeRegistration": {"name": NODE_NAME, "criSocket": f"unix://{paths.CONTAINERD_SOCKET}"},
    }
    sans = ["127.0.0.1", network.BRIDGE_IP, "localhost", NODE_NAME]
    cluster = {
        "apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "ClusterConfiguration",
        "clusterName": CLUSTER_NAME,
        "kubernetesVersion": versions.MANAGEMENT,
        "certificatesDir": str(paths.PKI),
        "controlPlaneEndpoint": f"{network.BRIDGE_IP}:{APISERVER_PORT}",
        # ECDSA keys: a dozen RSA keys would cost seconds on every fresh start.
        "encryptionAlgorithm": "ECDSA-P256",
        "networking": {"serviceSubnet": network.SERVICE_CIDR, "podSubnet": network.POD_CIDR,
                       "dnsDomain": network.CLUSTER_DOMAIN},
        "apiServer": {"certSANs": sans},
        "etcd": {"local": {"dataDir": str(paths.ETCD_DATA), "serverCertSANs": sans, "peerCertSANs": sans}},
    }
    return json.dumps(init, indent=1) + "\n---\n" + json.dumps(cluster, indent=1) + "\n"


def config_path() -> Path:
    return paths.CONFIG / "kubeadm.yaml"


def run_kubeadm(*args: str) -> str:
    out = subprocess.run([str(kubeadm_bin()), *args], check=True, capture_output=True, text=True)
    return out.stdout


def create_pki() -> None:
    """Certificates under paths.PKI and admin/super-admin/controller-manager/scheduler/kubelet
    kubeconfigs under paths.KUBECONFIGS, plus a kube-proxy kubeconfig and the admin kubeconfig
    at paths.KUBECONFIG."""
    paths.CONFIG.mkdir(parents=True, exist_ok=True)
    paths.KUBECONFIGS.mkdir(parents=True, exist_ok=True)
    config_path().write_text(kubeadm_config())
    run_kubeadm("init", "phase", "certs", "all", "--config", str(config_path()))
    run_kubeadm("init", "phase", "kubeconfig", "all", "--config", str(config_path()),
                "--kubeconfig-dir", str(paths.KUBECONFIGS))
    # kube-proxy runs as a plain process; the default RBAC binds system:node-proxier to this user.
    proxy = run_kubeadm("kubeconfig", "user", "--config", str(config_path()), "--client-name", "system:kube-proxy")
    kubeconfig("kube-proxy").write_text(proxy)
    kubeconfig("kube-proxy").chmod(0o600)
    admin = kubeconfig("admin").read_text()
    paths.KUBECONFIG.write_text(admin.replace(f"server: https://{network.BRIDGE_IP}:{APISERVER_PORT}",
                                              f"server: {APISERVER_URL}"))
    paths.KUBECONFIG.chmod(0o600)


def kubeconfig(name: str) -> Path:
    """One of kubeadm's kubeconfigs: admin, super-admin, controller-manager, scheduler, kubelet, kube-proxy."""
    return paths.KUBECONFIGS / f"{name}.conf"


def pki_file(name: str) -> Path:
    return paths.PKI / name
