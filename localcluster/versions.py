"""Every pinned version of the local cluster, in one place.

The management cluster runs MANAGEMENT; tenant control planes can run any of TENANT_VERSIONS
(two consecutive minors so that upgrades are real). kubelet >= 1.35 refuses cgroup v1 and
>= 1.36 needs containerd 2, so the node itself stays on 1.34 (see shared/MACHINE-FACTS.md).
"""

MANAGEMENT = "v1.34.4"
TENANT_VERSIONS = ("v1.34.4", "v1.35.4")
ETCD = "v3.6.16"
KINE = "v0.17.5"
METALLB = "v0.15.2"  # the LoadBalancer (L2 mode); see build.build_metallb for why not v0.16.2
PAUSE = "3.10"

NODE_BINARIES = (
    "kube-apiserver", "kube-controller-manager", "kube-scheduler",
    "kubelet", "kube-proxy", "kubeadm", "kubectl",
)
TENANT_BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")


def binaries_for(version: str) -> tuple[str, ...]:
    """The Kubernetes binaries built for one version: all of them for the node's version."""
    return NODE_BINARIES if version == MANAGEMENT else TENANT_BINARIES
