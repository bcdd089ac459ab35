"""Kubeconfig download: a personal, short-lived credential issued per request; and the operators'
break-glass kubeconfig (staff only, a reason required)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from kamaji_ui.web import login_required, operator_required
from tenants.authorization import Action, tenant_for
from tenants.services.kubeconfig_download import (
    KubeconfigUnavailable,
    issue_break_glass_kubeconfig_for,
    issue_kubeconfig_for,
    kubeconfig_response,
)


@login_required
@require_GET
@never_cache
def kubeconfig_download(request, pk):
    tenant = tenant_for(request.user, pk, Action.DOWNLOAD_KUBECONFIG)
    try:
        text = issue_kubeconfig_for(user=request.user, tenant=tenant, request=request)
    except KubeconfigUnavailable as exc:
        # Not ready yet (no endpoint or CA): say so on the cluster's page rather than fail the download.
        messages.warning(request, f"No kubeconfig yet: {exc}")
        return redirect("tenants:detail", pk=tenant.pk)
    return kubeconfig_response(tenant, request.user, text)


@operator_required  # before the method check: to everyone else this URL does not exist, whatever the method
@require_POST
@never_cache
def break_glass_kubeconfig(request, pk):
    tenant = tenant_for(request.user, pk, Action.VIEW)
    try:
        text = issue_break_glass_kubeconfig_for(user=request.user, tenant=tenant,
                                                reason=request.POST.get("reason", ""), request=request)
    except ValidationError as exc:
        messages.error(request, f"No break-glass kubeconfig: {' '.join(exc.messages)}")
        return redirect("tenants:detail", pk=tenant.pk)
    except KubeconfigUnavailable as exc:
        messages.warning(request, f"No kubeconfig yet: {exc}")
        return redirect("tenants:detail", pk=tenant.pk)
    return kubeconfig_response(tenant, request.user, text, break_glass=True)
