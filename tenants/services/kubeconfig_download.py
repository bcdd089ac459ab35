"""Kubeconfigs for people: per person, short-lived, signed by the tenant CA, every issue recorded.

The certificate's CN is the person's username (the tenant's audit log names them) and its
group is their organisation's admin group, which the bootstrap binds to cluster-admin. Operators
may also take a break-glass kubeconfig (group system:masters, short-lived, a reason required): a
separate, logged action.
"""

from datetime import UTC, datetime

import urllib3
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from kubernetes.client.exceptions import ApiException

from audit import log as audit
from kamaji_ui.operators import is_operator
from tenants.authorization import Action, tenant_for
from tenants.models import KubeconfigIssue, Phase, TenantControlPlane
from tenants.services import pki, status
from tenants.services.kube import Kube, management
from tenants.services.kubeconfig import build_kubeconfig, kubeconfig_yaml
from tenants.services.manifests import secrets


class KubeconfigUnavailable(Exception):
    """The cluster has no endpoint or CA yet (still provisioning, or being deleted)."""


def download_unavailable_reason(tenant: TenantControlPlane) -> str:
    """Why `tenant` offers no personal kubeconfig yet, or "" when it does. Pure.

    Only once its API server answers (the Ready condition, or the Ready phase derived from it):
    an endpoint alone is assigned before anything listens there, and such a file only fails.
    """
    if tenant.phase == Phase.DELETING:
        return "The cluster is being deleted."
    ready = tenant.condition(status.READY)
    if not tenant.endpoint or not (tenant.phase == Phase.READY or status.is_true(tenant.conditions, status.READY)):
        detail = f" ({ready['message']})" if ready and ready.get("status") != "True" and ready.get("message") else ""
        return f"Available once the cluster is Ready: its endpoint does not answer yet{detail}."
    return ""


def _tenant_ca(tenant: TenantControlPlane, kube: Kube) -> pki.CertKey:
    try:
        secret = kube.get("Secret", secrets.secret_name(tenant, secrets.PKI), tenant.namespace)
    except (ApiException, urllib3.exceptions.HTTPError) as exc:
        raise KubeconfigUnavailable("The management cluster cannot be reached right now; try again shortly.") from exc
    data = secrets.secret_text(secret)
    if not data.get(pki.CA_CERT) or not data.get(pki.CA_KEY):
        raise KubeconfigUnavailable("The cluster's certificates are not issued yet.")
    return pki.CertKey(data[pki.CA_CERT], data[pki.CA_KEY])


def issue_kubeconfig_for(*, user, tenant: TenantControlPlane, request=None, kube: Kube | None = None) -> str:
    """A kubeconfig (YAML text) for `user` on `tenant`, valid for settings.KUBECONFIG_VALIDITY.

    Owners and members may download; viewers get PermissionDenied; people outside the
    organisation get Http404 (they must not learn the cluster exists). Staff get it too, with the
    organisation's group, and the issue is recorded like anyone's.
    """
    tenant = tenant_for(user, tenant.pk, Action.DOWNLOAD_KUBECONFIG)
    if reason := download_unavailable_reason(tenant):
        raise KubeconfigUnavailable(reason)
    group = tenant.organization.admin_group
    return _issue(
        user=user, tenant=tenant, group=group, validity=settings.KUBECONFIG_VALIDITY, kind=KubeconfigIssue.Kind.USER,
        kube=kube, audit_as=lambda serial, expires_at: audit.record(
            user, "cluster.kubeconfig.download", tenant, request=request, serial=serial,
            expires_at=expires_at.isoformat(timespec="seconds"), identity=user.username, group=group),
    )


BREAK_GLASS_GROUP = "system:masters"


def issue_break_glass_kubeconfig_for(
    *, user, tenant: TenantControlPlane, reason: str, request=None, kube: Kube | None = None
) -> str:
    """An operator's emergency kubeconfig on `tenant`: CN = their username, group system:masters
    (which no RBAC can restrict), valid for settings.BREAK_GLASS_VALIDITY, and a reason required.

    Staff only: anyone else gets Http404, whether or not they may see the cluster (they must not
    learn this exists). Recorded as a KubeconfigIssue of kind BREAK_GLASS and in the audit log.
    """
    if not is_operator(user):
        raise Http404("No such page.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why you need administrator access to this cluster."})
    tenant = tenant_for(user, tenant.pk, Action.VIEW)
    return _issue(
        user=user, tenant=tenant, group=BREAK_GLASS_GROUP, validity=settings.BREAK_GLASS_VALIDITY,
        kind=KubeconfigIssue.Kind.BREAK_GLASS, kube=kube, audit_as=lambda serial, expires_at: audit.record(
            user, "cluster.kubeconfig.break_glass", tenant, request=request, reason=reason, serial=serial,
            expires=expires_at.isoformat(timespec="seconds"), identity=user.username, group=BREAK_GLASS_GROUP),
    )


def _issue(*, user, tenant: TenantControlPlane, group: str, validity, kind: str, kube: Kube | None, audit_as) -> str:
    """Sign a client certificate (CN = the username, O = `group`) with the tenant CA, record the issue
    (KubeconfigIssue of `kind`, and `audit_as(serial, expires_at)` in the same transaction), and
    return the kubeconfig text. Callers have authorized `user` already."""
    if tenant.phase == Phase.DELETING or not tenant.endpoint:
        raise KubeconfigUnavailable("The cluster has no endpoint yet; try again when it is Ready.")
    if not user.username:
        raise PermissionDenied("A kubeconfig needs a named user.")
    ca = _tenant_ca(tenant, kube or management())
    now = datetime.now(UTC)
    cert = pki.issue_certificate(
        ca=ca, common_name=user.username, organizations=[group], client=True, now=now, validity=validity,
    )
    expires_at = pki.not_after(cert.cert_pem)
    serial = pki.serial_hex(cert.cert_pem)
    with transaction.atomic():
        KubeconfigIssue.objects.create(
            tenant=tenant, cluster_name=str(tenant), user=user, username=user.username,
            kind=kind, serial_number=serial, expires_at=expires_at,
        )
        audit_as(serial, expires_at)
    return kubeconfig_yaml(build_kubeconfig(
        cluster_name=tenant.resource_name, server=tenant.endpoint, ca_pem=ca.cert_pem, user_name=user.username,
        cert_pem=cert.cert_pem, key_pem=cert.key_pem,
    ))


def kubeconfig_filename(tenant: TenantControlPlane, user, *, break_glass: bool = False) -> str:
    suffix = "-break-glass" if break_glass else ""
    return f"{tenant.organization.slug}-{tenant.name}-{user.username}{suffix}.kubeconfig"


def kubeconfig_response(tenant: TenantControlPlane, user, text: str, *, break_glass: bool = False) -> HttpResponse:
    """The download the UI and the API both send: YAML, named for the cluster and the person, never cached."""
    response = HttpResponse(text, content_type="application/yaml")
    filename = kubeconfig_filename(tenant, user, break_glass=break_glass)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"  # a credential: never cached by browsers or proxies
    return response
