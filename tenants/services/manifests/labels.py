"""Labels, selectors and owner references every object of a tenant carries."""

from tenants.models import TenantControlPlane

MANAGED_BY_KEY = "app.kubernetes.io/managed-by"
MANAGED_BY = "kamaji-ui"
TENANT_KEY = "kamaji-ui/tenant"
TENANT_UID_KEY = "kamaji-ui/tenant-uid"
ORGANIZATION_KEY = "kamaji-ui/organization"
COMPONENT_KEY = "app.kubernetes.io/component"
CONTROL_PLANE = "control-plane"
# Selects everything the product manages, across namespaces (watches, leak checks).
MANAGED_SELECTOR = f"{MANAGED_BY_KEY}={MANAGED_BY}"


def labels_for(tenant: TenantControlPlane) -> dict[str, str]:
    return {
        MANAGED_BY_KEY: MANAGED_BY,
        "app.kubernetes.io/part-of": "kamaji-ui",
        "app.kubernetes.io/instance": tenant.resource_name,
        TENANT_KEY: str(tenant.pk),
        TENANT_UID_KEY: str(tenant.uid),
        ORGANIZATION_KEY: tenant.organization.slug,
    }


def selector_for(tenant: TenantControlPlane) -> dict[str, str]:
    """The pods of the tenant's control plane (immutable once a Deployment uses it)."""
    return {TENANT_KEY: str(tenant.pk), COMPONENT_KEY: CONTROL_PLANE}


def anchor_name(tenant: TenantControlPlane) -> str:
    return f"{tenant.resource_name}-owner"


def owner_references(tenant: TenantControlPlane, anchor_uid: str) -> list[dict]:
    """Everything in the namespace is owned by the anchor ConfigMap: deleting it cascades."""
    return [{
        "apiVersion": "v1", "kind": "ConfigMap", "name": anchor_name(tenant), "uid": anchor_uid,
        "controller": True, "blockOwnerDeletion": True,
    }]


def metadata_for(tenant: TenantControlPlane, name: str, anchor_uid: str, **extra_labels: str) -> dict:
    return {
        "name": name,
        "namespace": tenant.namespace,
        "labels": {**labels_for(tenant), **extra_labels},
        "ownerReferences": owner_references(tenant, anchor_uid),
    }
