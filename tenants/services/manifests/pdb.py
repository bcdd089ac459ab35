"""PodDisruptionBudget: only for more than one replica (with one it would block node drains)."""

from tenants.models import TenantControlPlane
from tenants.services.manifests.labels import metadata_for, selector_for


def pdb_name(tenant: TenantControlPlane) -> str:
    return tenant.resource_name


def build_pdb(tenant: TenantControlPlane, *, anchor_uid: str) -> dict | None:
    """The PDB, or None when the tenant has a single replica (the reconcile then deletes it)."""
    if tenant.replicas <= 1:
        return None
    return {
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": metadata_for(tenant, pdb_name(tenant), anchor_uid),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector_for(tenant)}},
    }
