"""What the product puts inside each tenant cluster: RBAC for the organisation and cluster-info.

Applied with server-side apply through the tenant's own API, as the controller.
"""

from tenants.models import TenantControlPlane
from tenants.services.kube import Kube
from tenants.services.kubeconfig import build_discovery_kubeconfig, kubeconfig_yaml
from tenants.services.manifests.labels import MANAGED_BY, MANAGED_BY_KEY

ORG_ADMINS_BINDING = "kamaji-ui:organization-admins"
BOOTSTRAP_LABELS = {MANAGED_BY_KEY: MANAGED_BY}


def build_org_admins_binding(tenant: TenantControlPlane) -> dict:
    """The organisation's admin group (carried by every downloaded kubeconfig) is cluster-admin."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": ORG_ADMINS_BINDING, "labels": BOOTSTRAP_LABELS},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                      "name": tenant.organization.admin_group}],
    }


def build_cluster_info(tenant: TenantControlPlane, *, server: str, ca_pem: str) -> list[dict]:
    """kubeadm's public cluster-info ConfigMap (what `kubeadm join` discovers) and who may read it."""
    info = build_discovery_kubeconfig(server=server, ca_pem=ca_pem)
    name = "kubeadm:bootstrap-signer-clusterinfo"
    return [
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "cluster-info", "namespace": "kube-public", "labels": BOOTSTRAP_LABELS},
         "data": {"kubeconfig": kubeconfig_yaml(info)}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": name, "namespace": "kube-public", "labels": BOOTSTRAP_LABELS},
         "rules": [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["cluster-info"],
                    "verbs": ["get"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": name, "namespace": "kube-public", "labels": BOOTSTRAP_LABELS},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
         "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "system:anonymous"}]},
    ]


def bootstrap_tenant(tenant: TenantControlPlane, tenant_api: Kube, *, server: str, ca_pem: str) -> None:
    """Apply everything the tenant needs from us (idempotent)."""
    for manifest in [build_org_admins_binding(tenant), *build_cluster_info(tenant, server=server, ca_pem=ca_pem)]:
        tenant_api.apply(manifest)
