"""Changing a cluster from the UI: edit, upgrade, delete (typed-name confirmation)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from tenants.authorization import Action, tenant_for
from tenants.forms import DeleteConfirmForm, TenantEditForm, UpgradeForm
from tenants.models import Upgrade
from tenants.services.lifecycle import tenant_delete, tenant_update, upgrade_request
from tenants.views.rendering import add_service_errors, render_page
from tenants.views.signin import login_required


@login_required
@require_http_methods(["GET", "POST"])
def cluster_edit(request, pk):
    tenant = tenant_for(request.user, pk, Action.CHANGE)
    form = TenantEditForm(request.POST or None, instance=tenant)
    if request.method == "POST" and form.is_valid():
        try:
            tenant_update(tenant=tenant, by=request.user, request=request, **form.service_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Saved. {tenant.name} will be reconciled with the new settings.")
            return redirect("tenants:detail", pk=tenant.pk)
    tenant.refresh_from_db()  # the bound form wrote into the instance; show what is stored
    return render_page(request, page="tenants/edit.html", partial="tenants/partials/edit_form.html",
                       context={"tenant": tenant, "form": form}, status=400 if form.is_bound else 200)


@login_required
@require_http_methods(["GET", "POST"])
def cluster_upgrade(request, pk):
    tenant = tenant_for(request.user, pk, Action.CHANGE)
    form = UpgradeForm(request.POST or None, tenant=tenant)
    if request.method == "POST" and form.is_valid():
        try:
            upgrade = upgrade_request(tenant=tenant, to_version=form.cleaned_data["to_version"], by=request.user,
                                      request=request)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Upgrade of {tenant.name} to {upgrade.to_version} requested.")
            return redirect("tenants:detail", pk=tenant.pk)
    in_progress = tenant.upgrades.filter(state__in=[Upgrade.State.PENDING, Upgrade.State.RUNNING]).first()
    return render_page(request, page="tenants/upgrade.html", partial="tenants/partials/upgrade_form.html",
                       context={"tenant": tenant, "form": form, "in_progress": in_progress},
                       status=400 if form.is_bound else 200)


@login_required
@require_http_methods(["GET", "POST"])
def cluster_delete(request, pk):
    tenant = tenant_for(request.user, pk, Action.CHANGE)
    form = DeleteConfirmForm(request.POST or None, tenant=tenant)
    if request.method == "POST" and form.is_valid():
        try:
            tenant_delete(tenant=tenant, by=request.user, request=request)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Deletion of {tenant.name} requested; its control plane is being removed.")
            return redirect("tenants:list")
    return render_page(request, page="tenants/delete.html", partial="tenants/partials/delete_form.html",
                       context={"tenant": tenant, "form": form}, status=400 if form.is_bound else 200)
