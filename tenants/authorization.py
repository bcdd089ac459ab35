"""Who may do what to which cluster: the one place that decides.

Views, API and consumers ask `tenant_for(user, pk, action)`; lists come from
`tenants.selectors`, which scope by the same rules. A cluster the user may not see raises
Http404 (they must not learn it exists); one they may see but not act on raises PermissionDenied.
"""

from enum import Enum

from django.core.exceptions import PermissionDenied
from django.http import Http404

from kamaji_ui.operators import is_operator
from tenants.models import Membership, Organization, TenantControlPlane


class Action(Enum):
    VIEW = "view"
    CHANGE = "change"  # edit, upgrade, delete
    DOWNLOAD_KUBECONFIG = "download_kubeconfig"


# Roles allowed to do each action (staff may do everything everywhere).
ALLOWED_ROLES = {
    Action.VIEW: {Membership.Role.OWNER, Membership.Role.MEMBER, Membership.Role.VIEWER},
    Action.CHANGE: {Membership.Role.OWNER, Membership.Role.MEMBER},
    Action.DOWNLOAD_KUBECONFIG: {Membership.Role.OWNER, Membership.Role.MEMBER},
}


def role_in(user, organization_id: int) -> str | None:
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.filter(user=user, organization_id=organization_id).values_list("role", flat=True).first()
    )


def can(user, action: Action, tenant: TenantControlPlane) -> bool:
    if is_operator(user):
        return True
    return role_in(user, tenant.organization_id) in ALLOWED_ROLES[action]


def organizations_for(user, action: Action = Action.VIEW):
    """Organisations in which `user` may do `action` (e.g. CHANGE: may create clusters)."""
    if is_operator(user):
        return Organization.objects.all()
    if not user.is_authenticated:
        return Organization.objects.none()
    return Organization.objects.filter(
        memberships__user=user, memberships__role__in=ALLOWED_ROLES[action]
    ).distinct()


def visible_tenants(user):
    """Every cluster `user` may know exists."""
    qs = TenantControlPlane.objects.select_related("organization", "datastore")
    if is_operator(user):
        return qs
    return qs.filter(organization__in=organizations_for(user, Action.VIEW))


def tenant_for(user, pk, action: Action = Action.VIEW) -> TenantControlPlane:
    """The cluster `pk` if `user` may do `action` on it; 404 if they may not even see it."""
    try:
        tenant = visible_tenants(user).get(pk=pk)
    except (TenantControlPlane.DoesNotExist, ValueError, TypeError):
        raise Http404("No such cluster.") from None
    if not can(user, action, tenant):
        raise PermissionDenied(f"Your role does not allow {action.value.replace('_', ' ')} on this cluster.")
    return tenant
