"""Kubeconfigs for people: per person, short-lived, signed by the tenant CA, every issue recorded.

The certificate's CN is the person's username (the tenant's audit log names them) and its
group is their organisation's admin group, which the bootstrap binds to cluster-admin.
"""

from datetime import UTC, datetime

import urllib3
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from kubernetes.client.exceptions import ApiException

from audit import log as audit
from tenants.authorization import Action, tenant_for
from tenants.models import KubeconfigIssue, Phase, TenantControlPlane
from tenants.services import pki
from tenants.services.kube import Kube, management
from tenants.services.kubeconfig import build_kubeconfig, kubeconfig_yaml
from tenants.services.manifests import secrets


class KubeconfigUnavailable(Exception):
    """The cluster has no endpoint or CA yet (still provisioning, or being deleted)."""


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
    if tenant.phase == Phase.DELETING or not tenant.endpoint:
        raise KubeconfigUnavailable("The cluster has no endpoint yet; try again when it is Ready.")
    if not user.username:
        raise PermissionDenied("A kubeconfig needs a named user.")
    ca = _tenant_ca(tenant, kube or management())
    now = datetime.now(UTC)
    cert = pki.issue_certificate(
        ca=ca, common_name=user.username, organizations=[tenant.organization.admin_group], client=True,
        now=now, validity=settings.KUBECONFIG_VALIDITY,
    )
    expires_at = pki.not_after(cert.cert_pem)
    serial = pki.serial_hex(cert.cert_pem)
    with transaction.atomic():
        KubeconfigIssue.objects.create(
            tenant=tenant, cluster_name=str(tenant), user=user, username=user.username,
            kind=KubeconfigIssue.Kind.USER, serial_number=serial, expires_at=expires_at,
        )
        audit.record(user, "cluster.kubeconfig.download", tenant, request=request, serial=serial,
                     expires_at=expires_at.isoformat(timespec="seconds"), identity=user.username,
                     group=tenant.organization.admin_group)
    return kubeconfig_yaml(build_kubeconfig(
        cluster_name=tenant.resource_name, server=tenant.endpoint, ca_pem=ca.cert_pem, user_name=user.username,
        cert_pem=cert.cert_pem, key_pem=cert.key_pem,
    ))


def kubeconfig_filename(tenant: TenantControlPlane, user) -> str:
    return f"{tenant.organization.slug}-{tenant.name}-{user.username}.kubeconfig"
