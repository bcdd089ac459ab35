"""Reads: every query that lists clusters goes through here, scoped by tenants.authorization."""

from django.db.models import Count, OuterRef, Q, Subquery

from audit.models import AuditEvent
from datastores.models import DataStore
from tenants.authorization import Action, is_operator, organizations_for, visible_tenants
from tenants.models import Membership, Phase, TenantControlPlane, Upgrade


def tenant_list_for(user):
    return visible_tenants(user).order_by("organization__name", "name")


def upgrades_for(user):
    return Upgrade.objects.filter(tenant__in=visible_tenants(user)).select_related("tenant", "requested_by")


def tenants_not_ready():
    """Fleet view for operators: clusters that need attention."""
    return TenantControlPlane.objects.select_related("organization").exclude(phase=Phase.READY).order_by("-updated_at")


def datastores_with_usage():
    """Datastores with how many tenants each holds (operators only; callers check)."""
    return DataStore.objects.annotate(
        tenant_count=Count("tenants"),
        not_ready_count=Count("tenants", filter=~Q(tenants__phase=Phase.READY)),
    ).order_by("name")


def organizations_with_role_for(user):
    """The caller's organisations (all, for operators), each annotated with the caller's `role` (or None)."""
    role = Membership.objects.filter(organization=OuterRef("pk"), user=user).values("role")[:1]
    return organizations_for(user, Action.VIEW).annotate(role=Subquery(role)).order_by("name")


def audit_events_visible_to(user):
    """The audit log as `user` may read it: operators all of it; others the events of the
    organisations they belong to (any role), never system-wide or other organisations' events."""
    qs = AuditEvent.objects.select_related("organization")
    if is_operator(user):
        return qs
    return qs.filter(organization__in=organizations_for(user, Action.VIEW))


def audit_events_for(tenant: TenantControlPlane, limit: int = 10):
    """The latest audit events about one cluster (callers have checked the caller may view it)."""
    return AuditEvent.objects.filter(
        object_type=TenantControlPlane._meta.model_name, object_id=str(tenant.pk)
    ).order_by("-at", "-id")[:limit]
