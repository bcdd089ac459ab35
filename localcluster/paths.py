"""Where the local cluster keeps its build cache and its runtime state.

The cache lives outside the checkout (CI clones main elsewhere) and is keyed by version, so a
second build is a no-op and two checkouts share it. Override with KAMAJI_UI_CACHE.
"""

import os
from pathlib import Path

CACHE = Path(os.environ.get("KAMAJI_UI_CACHE", "/var/cache/kamaji-ui"))
GOMODCACHE = CACHE / "go" / "mod"
GOCACHE = CACHE / "go" / "build"
BIN = CACHE / "bin"
IMAGES = CACHE / "images"

# Runtime state of a running cluster: one per machine, like the daemons themselves.
STATE = Path(os.environ.get("KAMAJI_UI_STATE", "/var/lib/kamaji-ui-localcluster"))
RUN = Path(os.environ.get("KAMAJI_UI_RUN", "/run/kamaji-ui-localcluster"))
KUBECONFIG = STATE / "admin.kubeconfig"

GOMOD_SRC = Path(__file__).resolve().parent / "gomod"


def bin_dir(component: str, version: str) -> Path:
    return BIN / f"{component}-{version}"


# Inside STATE and RUN. A fresh start wipes all of them except CONTAINERD_ROOT, which keeps the
# imported images (re-importing them costs more than the rest of a start).
PKI = STATE / "pki"
KUBECONFIGS = STATE / "kubeconfigs"
CONFIG = STATE / "config"
LOGS = STATE / "logs"
ETCD_DATA = STATE / "etcd"
KUBELET_ROOT = STATE / "kubelet"
CNI = STATE / "cni"
CONTAINERD_ROOT = STATE / "containerd"
SYSCTL_BEFORE = STATE / "sysctl-before.json"  # kept until stop restores what the node changed
PIDS = RUN / "pids"
CONTAINERD_STATE = RUN / "containerd"
CONTAINERD_SOCKET = CONTAINERD_STATE / "containerd.sock"
RUNC_ROOT = RUN / "runc"
