"""The tenant's namespace and its anchor ConfigMap (the owner of everything inside)."""

from tenants.models import TenantControlPlane
from tenants.services.manifests.labels import anchor_name, labels_for


def build_namespace(tenant: TenantControlPlane) -> dict:
    return {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": tenant.namespace, "labels": labels_for(tenant)},
    }


def build_anchor(tenant: TenantControlPlane) -> dict:
    """Names the tenant this namespace belongs to; a namespace left from another row is detectable."""
    return {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": anchor_name(tenant), "namespace": tenant.namespace, "labels": labels_for(tenant)},
        "data": {
            "tenant": str(tenant.pk), "uid": str(tenant.uid),
            "organization": tenant.organization.slug, "name": tenant.name,
        },
    }
