"""Changing a cluster from the UI: edit, upgrade, delete (typed-name confirmation)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from kamaji_ui.web import add_service_errors, login_required, render_page
from tenants.authorization import Action, tenant_for
from tenants.forms import DeleteConfirmForm, TenantEditForm, UpgradeForm
from tenants.services.lifecycle import tenant_delete, tenant_update, upgrade_request


def _submitted(request, form, action, message) -> bool:
    """For a valid POST, run `action()` and flash `message(result)`: True when it was done.

    A ValidationError from the service goes onto the form instead, to be shown again.
    """
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        result = action()
    except ValidationError as exc:
        add_service_errors(form, exc)
        return False
    messages.success(request, message(result))
    return True


def _form_page(request, *, page: str, partial: str, tenant, form, **context):
    """The form again: 400 after a rejected POST, 200 on GET."""
    return render_page(request, page=page, partial=partial, context={"tenant": tenant, "form": form, **context},
                       status=400 if form.is_bound else 200)


@login_required
@require_http_methods(["GET", "POST"])
def cluster_edit(request, pk):
    tenant = tenant_for(request.user, pk, Action.CHANGE)
    form = TenantEditForm(request.POST or None, instance=tenant)
    if _submitted(request, form,
                  lambda: tenant_update(tenant=tenant, by=request.user, request=request, **form.service_fields()),
                  lambda _: f"Saved. {tenant.name} will be reconciled with the new settings."):
        return redirect("tenants:detail", pk=tenant.pk)
    tenant.refresh_from_db()  # the bound form wrote into the instance; show what is stored
    return _form_page(request, page="tenants/edit.html", partial="tenants/partials/edit_form.html",
                      tenant=tenant, form=form)


@login_required
@require_http_methods(["GET", "POST"])
def cluster_upgrade(request, pk):
    tenant = tenant_for(request.user, pk, Action.CHANGE)
    form = UpgradeForm(request.POST or None, tenant=tenant)
    if _submitted(request, form,
                  lambda: upgrade_request(tenant=tenant, to_version=form.cleaned_data["to_version"],
                                          by=request.user, request=request),
                  lambda upgrade: f"Upgrade of {tenant.name} to {upgrade.to_version} requested."):
        return redirect("tenants:detail", pk=tenant.pk)
    in_progress = tenant.upgrades.in_progress().first()
    return _form_page(request, page="tenants/upgrade.html", partial="tenants/partials/upgrade_form.html",
                      tenant=tenant, form=form, in_progress=in_progress)


@login_required
@require_http_methods(["GET", "POST"])
def cluster_delete(request, pk):
    tenant = tenant_for(request.user, pk, Action.CHANGE)
    form = DeleteConfirmForm(request.POST or None, tenant=tenant)
    if _submitted(request, form, lambda: tenant_delete(tenant=tenant, by=request.user, request=request),
                  lambda _: f"Deletion of {tenant.name} requested; its control plane is being removed."):
        return redirect("tenants:list")
    return _form_page(request, page="tenants/delete.html", partial="tenants/partials/delete_form.html",
                      tenant=tenant, form=form)
