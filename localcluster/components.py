"""What each daemon of the node is: its configuration file and its command line.

Config builders are pure (text out) so they are unit-tested without a node; `daemons()`
lists the daemons in start order. Everything points into paths.STATE / paths.RUN, never /etc.
"""

import json
import sys
from pathlib import Path

from . import loadbalancer, netns, network, paths, pki, versions
from .daemons import Daemon

CNI_NETWORK = "kui"
CNI_BIN_DIR = Path("/usr/lib/cni")
PAUSE_IMAGE = f"registry.k8s.io/pause:{versions.PAUSE}"
# Loopback and the bridge only: nothing of the node listens for or answers the machine's other addresses.
NODE_PORT_ADDRESSES = [f"{network.BRIDGE_IP}/32", "127.0.0.1/32"]


def k8s_bin(name: str) -> str:
    return str(paths.bin_dir("kubernetes", versions.MANAGEMENT) / name)


def containerd_config() -> str:
    """containerd 1.6 (config version 2) with state, root, socket and CNI config of its own."""
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""version = 2
root = "{paths.CONTAINERD_ROOT}"
state = "{paths.CONTAINERD_STATE}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "{paths.CONTAINERD_SOCKET}"

[ttrpc]
  address = "{paths.CONTAINERD_STATE}/containerd.sock.ttrpc"

[debug]
  address = "{paths.CONTAINERD_STATE}/debug.sock"

[plugins."io.containerd.internal.v1.opt"]
  path = "{paths.CONTAINERD_ROOT}/opt"

[{cri}]
  sandbox_image = "{PAUSE_IMAGE}"
  # This shell cannot lower oom_score_adj; without this every pod sandbox fails to start.
  restrict_oom_score_adj = true
  # Pod network namespaces under our state dir rather than /run/netns, so cleanup finds them all there.
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  enable_selinux = false

[{cri}.cni]
  bin_dir = "{CNI_BIN_DIR}"
  conf_dir = "{paths.CNI}/net.d"

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  BinaryName = "/usr/sbin/runc"
  Root = "{paths.RUNC_ROOT}"
  SystemdCgroup = false
"""


def cni_config() -> str:
    """A bridge on network.BRIDGE with host-local addresses; no masquerading anywhere.

    Pods get network.POD_IPAM_RANGE only: the top of the subnet is for worker hosts and
    LoadBalancer addresses, which must never be handed to a pod as well.
    """
    first, last = network.POD_IPAM_RANGE
    conf = {
        "cniVersion": "1.0.0",
        "name": CNI_NETWORK,
        "plugins": [
            {
                "type": "bridge", "bridge": network.BRIDGE, "isGateway": True, "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": network.NODE_POD_CIDR, "gateway": network.BRIDGE_IP,
                                 "rangeStart": first, "rangeEnd": last}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(paths.CNI / "ipam"),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}, "snat": False},
        ],
    }
    return json.dumps(conf, indent=2) + "\n"


def kubelet_config() -> str:
    conf = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
        "address": network.BRIDGE_IP,
        "healthzBindAddress": "127.0.0.1",
        "containerRuntimeEndpoint": f"unix://{paths.CONTAINERD_SOCKET}",
        "cgroupDriver": "cgroupfs",
        "failSwapOn": False,
        "clusterDNS": [network.CLUSTER_DNS_IP],
        "clusterDomain": network.CLUSTER_DOMAIN,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(pki.pki_file("ca.crt"))},
        },
        "authorization": {"mode": "Webhook"},
        # Images exist only because we imported them: never garbage-collect them.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
        "serializeImagePulls": False,
        "maxPods": 250,
        "resolvConf": "",
        "syncFrequency": "10s",
        "fileCheckFrequency": "60s",
    }
    return json.dumps(conf, indent=2) + "\n"


def kube_proxy_config() -> str:
    conf = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration",
        "mode": "iptables",
        "bindAddress": network.BRIDGE_IP,  # kube-proxy takes the node IP from it
        "healthzBindAddress": "127.0.0.1:10256",
        "metricsBindAddress": "127.0.0.1:10249",
        "clientConnection": {"kubeconfig": str(pki.kubeconfig("kube-proxy"))},
        "clusterCIDR": network.POD_CIDR,
        "hostnameOverride": pki.NODE_NAME,
        "nodePortAddresses": NODE_PORT_ADDRESSES,
        # Leave the machine's conntrack sysctls alone.
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
    }
    return json.dumps(conf, indent=2) + "\n"


def config_files() -> dict[Path, str]:
    """Every configuration file the daemons read, by path."""
    return {
        paths.CONFIG / "containerd.toml": containerd_config(),
        paths.CNI / "net.d" / f"10-{CNI_NETWORK}.conflist": cni_config(),
        paths.CONFIG / "kubelet.json": kubelet_config(),
        paths.CONFIG / "kube-proxy.json": kube_proxy_config(),
    }


def write_config_files() -> None:
    for path, text in config_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def etcd_endpoints() -> list[str]:
    return [f"https://127.0.0.1:{pki.ETCD_CLIENT_PORT}", f"https://{network.BRIDGE_IP}:{pki.ETCD_CLIENT_PORT}"]


def etcd() -> Daemon:
    p = pki.pki_file
    return Daemon("etcd", [
        str(paths.bin_dir("etcd", versions.ETCD) / "etcd"),
        "--name", pki.NODE_NAME,
        "--data-dir", str(paths.ETCD_DATA),
        # The bridge address too: tenant control planes in pods use this etcd as their datastore.
        "--listen-client-urls", ",".join(etcd_endpoints()),
        "--advertise-client-urls", etcd_endpoints()[1],
        "--listen-peer-urls", f"https://127.0.0.1:{pki.ETCD_PEER_PORT}",
        "--initial-advertise-peer-urls", f"https://127.0.0.1:{pki.ETCD_PEER_PORT}",
        "--initial-cluster", f"{pki.NODE_NAME}=https://127.0.0.1:{pki.ETCD_PEER_PORT}",
        "--listen-metrics-urls", "http://127.0.0.1:2381",
        "--client-cert-auth", "--trusted-ca-file", str(p("etcd/ca.crt")),
        "--cert-file", str(p("etcd/server.crt")), "--key-file", str(p("etcd/server.key")),
        "--peer-client-cert-auth", "--peer-trusted-ca-file", str(p("etcd/ca.crt")),
        "--peer-cert-file", str(p("etcd/peer.crt")), "--peer-key-file", str(p("etcd/peer.key")),
        "--snapshot-count", "10000",
        "--log-level", "warn",
    ])


def kube_apiserver() -> Daemon:
    p = pki.pki_file
    return Daemon("kube-apiserver", [
        k8s_bin("kube-apiserver"),
        "--advertise-address", network.BRIDGE_IP,
        # Every address of the node's namespace (loopback and the bridge): 127.0.0.1:6443 works there
        # and, through the forwarder, on the machine, so one admin kubeconfig serves both.
        "--bind-address", "0.0.0.0",
        "--secure-port", str(pki.APISERVER_PORT),
        "--allow-privileged=true",
        "--authorization-mode", "Node,RBAC",
        "--client-ca-file", str(p("ca.crt")),
        "--enable-admission-plugins", "NodeRestriction",
        "--enable-bootstrap-token-auth=true",
        "--etcd-servers", etcd_endpoints()[0],
        "--etcd-cafile", str(p("etcd/ca.crt")),
        "--etcd-certfile", str(p("apiserver-etcd-client.crt")),
        "--etcd-keyfile", str(p("apiserver-etcd-client.key")),
        "--kubelet-client-certificate", str(p("apiserver-kubelet-client.crt")),
        "--kubelet-client-key", str(p("apiserver-kubelet-client.key")),
        "--kubelet-preferred-address-types", "InternalIP",
        "--proxy-client-cert-file", str(p("front-proxy-client.crt")),
        "--proxy-client-key-file", str(p("front-proxy-client.key")),
        "--requestheader-allowed-names", "front-proxy-client",
        "--requestheader-client-ca-file", str(p("front-proxy-ca.crt")),
        "--requestheader-extra-headers-prefix", "X-Remote-Extra-",
        "--requestheader-group-headers", "X-Remote-Group",
        "--requestheader-username-headers", "X-Remote-User",
        "--service-account-issuer", f"https://kubernetes.default.svc.{network.CLUSTER_DOMAIN}",
        "--service-account-key-file", str(p("sa.pub")),
        "--service-account-signing-key-file", str(p("sa.key")),
        "--service-cluster-ip-range", network.SERVICE_CIDR,
        "--tls-cert-file", str(p("apiserver.crt")),
        "--tls-private-key-file", str(p("apiserver.key")),
    ])


def kube_controller_manager() -> Daemon:
    p = pki.pki_file
    conf = str(pki.kubeconfig("controller-manager"))
    return Daemon("kube-controller-manager", [
        k8s_bin("kube-controller-manager"),
        "--kubeconfig", conf, "--authentication-kubeconfig", conf, "--authorization-kubeconfig", conf,
        "--bind-address", "127.0.0.1",
        "--client-ca-file", str(p("ca.crt")),
        "--requestheader-client-ca-file", str(p("front-proxy-ca.crt")),
        "--cluster-name", pki.CLUSTER_NAME,
        "--cluster-signing-cert-file", str(p("ca.crt")),
        "--cluster-signing-key-file", str(p("ca.key")),
        "--root-ca-file", str(p("ca.crt")),
        "--service-account-private-key-file", str(p("sa.key")),
        "--service-cluster-ip-range", network.SERVICE_CIDR,
        "--use-service-account-credentials=true",
        "--leader-elect=false",
    ])


def kube_scheduler() -> Daemon:
    conf = str(pki.kubeconfig("scheduler"))
    return Daemon("kube-scheduler", [
        k8s_bin("kube-scheduler"),
        "--kubeconfig", conf, "--authentication-kubeconfig", conf, "--authorization-kubeconfig", conf,
        "--bind-address", "127.0.0.1",
        "--leader-elect=false",
    ])


def kubelet() -> Daemon:
    return Daemon("kubelet", [
        k8s_bin("kubelet"),
        "--config", str(paths.CONFIG / "kubelet.json"),
        "--kubeconfig", str(pki.kubeconfig("kubelet")),
        "--root-dir", str(paths.KUBELET_ROOT),
        "--cert-dir", str(paths.KUBELET_ROOT / "pki"),
        "--hostname-override", pki.NODE_NAME,
        "--node-ip", network.BRIDGE_IP,
    ], stop_timeout=20)


def kube_proxy() -> Daemon:
    return Daemon("kube-proxy", [k8s_bin("kube-proxy"), "--config", str(paths.CONFIG / "kube-proxy.json")])


# containerd would pull a missing image from the internet; every registry request goes to a closed
# port on loopback instead, so an image that was not imported fails to pull and nothing leaves the machine.
NO_PULL_PROXY = "http://127.0.0.1:9"


def containerd() -> Daemon:
    proxy = {name: NO_PULL_PROXY for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")}
    return Daemon("containerd", ["/usr/bin/containerd", "--config", str(paths.CONFIG / "containerd.toml")],
                  env={**proxy, "NO_PROXY": "", "no_proxy": ""}, stop_timeout=20)


FORWARDER_MODULE = "localcluster.forwarder"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def forwarder() -> Daemon:
    """The one process of the node in the machine's namespace: 127.0.0.1:<port> there → the node."""
    argv = [sys.executable, "-m", FORWARDER_MODULE, "--target", network.BRIDGE_IP,
            "--port", str(pki.APISERVER_PORT), "--kubeconfig", str(pki.kubeconfig("admin"))]
    return Daemon("forwarder", netns.nsenter_host(argv), env={"PYTHONPATH": str(PROJECT_ROOT)})


# MetalLB's Prometheus ports (the node's other daemons use 10248-10259, 2379-2381, 6443).
METALLB_CONTROLLER_METRICS_PORT = 7472  # MetalLB's default; the controller has no flag for the address
METALLB_SPEAKER_METRICS_PORT = 7473
# The same BGP implementation for both (the controller validates the config for it): MetalLB's
# built-in one, idle without BGPPeers. No FRR.
METALLB_ENV = {"METALLB_BGP_TYPE": "native"}


def metallb_bin(name: str) -> str:
    return str(paths.bin_dir("metallb", versions.METALLB) / name)


def metallb_common_args() -> list[str]:
    # The admin kubeconfig (kubernetes-admin, in kubeadm:cluster-admins, which start binds to
    # cluster-admin before any of these run): MetalLB's own RBAC is not applied, and unlike
    # super-admin (system:masters) this identity can still be revoked by RBAC.
    return ["--kubeconfig", str(pki.kubeconfig("admin")), "--namespace", loadbalancer.NAMESPACE,
            "--log-level", "info"]


def metallb_controller() -> Daemon:
    """MetalLB's controller: assigns LoadBalancer addresses from the pool. Needs loadbalancer.apply() first."""
    return Daemon("metallb-controller", [
        metallb_bin("controller"), *metallb_common_args(),
        # No ValidatingWebhookConfiguration is applied: no webhook server, no certificates for it.
        "--webhook-mode=disabled", "--disable-cert-rotation=true",
        "--port", str(METALLB_CONTROLLER_METRICS_PORT),
    ], env=METALLB_ENV)


def metallb_speaker() -> Daemon:
    """MetalLB's speaker in L2 mode: answers ARP for assigned addresses on the bridge (per the
    L2Advertisement). Memberlist stays off (no --ml-bindaddr/--ml-labels): one node, nothing to
    detect dead. Needs loadbalancer.apply() first: it exits unless its (stand-in) Pod exists."""
    return Daemon("metallb-speaker", [
        metallb_bin("speaker"), *metallb_common_args(),
        "--node-name", pki.NODE_NAME,
        "--pod-name", loadbalancer.SPEAKER_POD,
        "--host", "127.0.0.1", "--port", str(METALLB_SPEAKER_METRICS_PORT),
        # The one node is the control plane too; announce even if it carries kubeadm's exclude label.
        "--ignore-exclude-lb",
    ], env=METALLB_ENV)


def daemons() -> list[Daemon]:
    """Every daemon of the node, in start order (stop goes the other way)."""
    return [containerd(), etcd(), kube_apiserver(), forwarder(), kube_controller_manager(), kube_scheduler(),
            kubelet(), kube_proxy(), metallb_controller(), metallb_speaker()]


def ctr(*args: str) -> list[str]:
    """A `ctr` command line against our containerd, in the namespace the CRI uses."""
    return ["ctr", "--address", str(paths.CONTAINERD_SOCKET), "--namespace", "k8s.io", *args]
