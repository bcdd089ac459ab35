"""Changing clusters: create, update, upgrade, delete. Views and the API call only these.

Each service validates with the model's rules (the same for forms and API), writes in one
transaction, records the audit event, and asks the controller to reconcile after commit. A
transaction SQLite refuses with "database is locked" is run again (kamaji_ui.db_locks).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit import log as audit
from kamaji_ui.db_locks import retry_when_locked
from tenants.models import Organization, Phase, TenantControlPlane, Upgrade
from tenants.services.queue import reconcile_soon

# Fields a person may set on create / change later.
CREATE_FIELDS = (
    "name", "kubernetes_version", "replicas", "service_type", "port", "cert_sans", "datastore",
    "addon_coredns", "addon_kube_proxy", "addon_konnectivity", "pod_cidr", "service_cidr", "dns_service_ip",
)
# Networks and the datastore are fixed once created (moving a datastore is a migration, not an edit).
UPDATE_FIELDS = ("replicas", "service_type", "port", "cert_sans", "addon_coredns", "addon_kube_proxy",
                 "addon_konnectivity")


def _schedule(tenant: TenantControlPlane) -> None:
    pk = tenant.pk
    transaction.on_commit(lambda: reconcile_soon(pk))


def build_tenant(*, organization: Organization, **fields) -> TenantControlPlane:
    """An unsaved, fully validated cluster (raises ValidationError with field errors)."""
    unknown = set(fields) - set(CREATE_FIELDS)
    if unknown:
        raise ValidationError({f: "This field cannot be set." for f in unknown})
    tenant = TenantControlPlane(organization=organization, **fields)
    # created_by is set by the service, not by the person (and may be empty: SET_NULL).
    tenant.full_clean(exclude=["created_by"])
    return tenant


@retry_when_locked
@transaction.atomic
def tenant_create(*, organization: Organization, by, request=None, **fields) -> TenantControlPlane:
    tenant = build_tenant(organization=organization, **fields)
    tenant.created_by = by if getattr(by, "pk", None) else None
    tenant.phase = Phase.PENDING
    tenant.save()
    audit.record(by, "cluster.create", tenant, request=request, spec=_spec_for_audit(tenant))
    _schedule(tenant)
    return tenant


@retry_when_locked
@transaction.atomic
def tenant_update(*, tenant: TenantControlPlane, by, request=None, **fields) -> TenantControlPlane:
    tenant = TenantControlPlane.objects.select_for_update().get(pk=tenant.pk)
    if tenant.phase == Phase.DELETING:
        raise ValidationError("This cluster is being deleted.")
    unknown = set(fields) - set(UPDATE_FIELDS)
    if unknown:
        raise ValidationError({f: "This field cannot be changed after creation." for f in unknown})
    before = _spec_for_audit(tenant)
    for name, value in fields.items():
        setattr(tenant, name, value)
    tenant.full_clean(exclude=["created_by"])
    if tenant.spec_changed():
        tenant.save()
        audit.record(by, "cluster.update", tenant, request=request, before=before, after=_spec_for_audit(tenant))
        _schedule(tenant)
    return tenant


@retry_when_locked
@transaction.atomic
def upgrade_request(*, tenant: TenantControlPlane, to_version: str, by, request=None) -> Upgrade:
    """Ask for a version change. One minor at a time, never down (what Kubernetes supports)."""
    tenant = TenantControlPlane.objects.select_for_update().get(pk=tenant.pk)
    if tenant.phase == Phase.DELETING:
        raise ValidationError("This cluster is being deleted.")
    if tenant.upgrades.in_progress().exists():
        raise ValidationError({"to_version": "An upgrade is already in progress."})
    upgrade = Upgrade(tenant=tenant, from_version=tenant.kubernetes_version, to_version=to_version,
                      requested_by=by if getattr(by, "pk", None) else None)
    upgrade.full_clean(exclude=["tenant", "requested_by"])
    check_upgrade_path(tenant.kubernetes_version, to_version)
    upgrade.log(f"Requested by {getattr(by, 'username', 'system')}")
    upgrade.save()
    tenant.kubernetes_version = to_version
    tenant.phase = Phase.UPGRADING
    tenant.save()
    audit.record(by, "cluster.upgrade", tenant, request=request, from_version=upgrade.from_version,
                 to_version=to_version)
    _schedule(tenant)
    return upgrade


def minor_of(version: str) -> tuple[int, int]:
    major, minor = version.lstrip("v").split(".")[:2]
    return int(major), int(minor)


def check_upgrade_path(current: str, target: str) -> None:
    if target == current:
        raise ValidationError({"to_version": f"The cluster already runs {current}."})
    (cmaj, cmin), (tmaj, tmin) = minor_of(current), minor_of(target)
    if (tmaj, tmin) < (cmaj, cmin):
        raise ValidationError({"to_version": "Downgrades are not supported."})
    if tmaj != cmaj or tmin > cmin + 1:
        raise ValidationError({"to_version": f"Upgrade one minor version at a time (next: v{cmaj}.{cmin + 1})."})


@retry_when_locked
@transaction.atomic
def tenant_delete(*, tenant: TenantControlPlane, by, request=None) -> TenantControlPlane:
    """Mark for deletion; the controller removes everything, then the row."""
    tenant = TenantControlPlane.objects.select_for_update().get(pk=tenant.pk)
    if tenant.phase != Phase.DELETING:
        tenant.phase = Phase.DELETING
        tenant.set_condition("Ready", False, "Deleting", "Deletion requested")
        tenant.save(update_fields=["phase", "conditions", "updated_at"])
        audit.record(by, "cluster.delete", tenant, request=request)
    _schedule(tenant)
    return tenant


def _spec_for_audit(tenant: TenantControlPlane) -> dict:
    spec = tenant.spec_snapshot()
    spec["datastore_id"] = tenant.datastore_id
    return {k: (str(v) if not isinstance(v, (int, bool, list, type(None))) else v) for k, v in spec.items()}


def mark_upgrade(upgrade: Upgrade, state: str, message: str) -> None:
    """Used by the controller to move an upgrade along, with a log line per step."""
    upgrade.state = state
    if state == Upgrade.State.RUNNING and not upgrade.started_at:
        upgrade.started_at = timezone.now()
    if state in (Upgrade.State.SUCCEEDED, Upgrade.State.FAILED):
        upgrade.finished_at = timezone.now()
    upgrade.log(message)
    upgrade.save()
