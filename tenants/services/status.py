"""Conditions the controller writes and the phase derived from them (pure)."""

from tenants.models import Phase

DATASTORE_READY = "DatastoreReady"
CERTIFICATES_READY = "CertificatesReady"
DEPLOYMENT_AVAILABLE = "DeploymentAvailable"
ENDPOINT_READY = "EndpointReady"
READY = "Ready"
# The order a reconcile walks; Ready is their conjunction plus the tenant API answering.
CONDITION_TYPES = (DATASTORE_READY, CERTIFICATES_READY, ENDPOINT_READY, DEPLOYMENT_AVAILABLE, READY)


def is_true(conditions: list[dict], type_: str) -> bool:
    return any(c.get("type") == type_ and c.get("status") == "True" for c in conditions)


def derive_phase(conditions: list[dict], *, upgrading: bool, ever_ready: bool, failed: bool) -> str:
    """Phase for people: one word from the conditions (Deleting is set by the delete service)."""
    if failed:
        return Phase.FAILED
    if upgrading:
        return Phase.UPGRADING
    if is_true(conditions, READY):
        return Phase.READY
    return Phase.NOT_READY if ever_ready else Phase.PROVISIONING
