"""Secrets holding a tenant's PKI, component kubeconfigs and datastore connection."""

import base64

from tenants.models import TenantControlPlane
from tenants.services.manifests.labels import metadata_for

PKI = "pki"
KUBECONFIGS = "kubeconfigs"
DATASTORE = "datastore"


def secret_name(tenant: TenantControlPlane, purpose: str) -> str:
    return f"{tenant.resource_name}-{purpose}"


def build_secret(tenant: TenantControlPlane, *, purpose: str, data: dict[str, str], anchor_uid: str) -> dict:
    # `data`, not `stringData`: server-side apply tracks ownership of `data` keys, so removed keys go.
    return {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": metadata_for(tenant, secret_name(tenant, purpose), anchor_uid, **{"kamaji-ui/secret": purpose}),
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in sorted(data.items())},
    }


def secret_text(secret: dict | None) -> dict[str, str]:
    """A Secret read back from the API, as {key: text} (empty when there is none)."""
    if not secret:
        return {}
    return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
