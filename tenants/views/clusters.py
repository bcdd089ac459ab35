"""Cluster list, create (with inline validation) and detail."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_tables2 import RequestConfig

from audit.selectors import audit_events_for
from kamaji_ui.operators import is_operator
from kamaji_ui.web import add_service_errors, login_required, render_page
from tenants.authorization import Action, can, organizations_for, tenant_for
from tenants.filtersets import TenantFilterSet
from tenants.forms import NETWORK_FIELDS, TenantCreateForm
from tenants.models import Phase
from tenants.selectors import tenant_list_for
from tenants.services.lifecycle import tenant_create
from tenants.tables import TenantTable

PAGE_SIZE = 20


@login_required
def cluster_list(request):
    filterset = TenantFilterSet(request.GET, queryset=tenant_list_for(request.user))
    table = TenantTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": PAGE_SIZE}).configure(table)
    context = {
        "filterset": filterset,
        "table": table,
        "phases": Phase.choices,
        "organizations": organizations_for(request.user, Action.VIEW),
        "can_create": organizations_for(request.user, Action.CHANGE).exists(),
    }
    return render_page(request, page="tenants/list.html", partial="tenants/partials/cluster_table.html",
                       context=context)


@login_required
@require_http_methods(["GET", "POST"])
def cluster_create(request):
    if not organizations_for(request.user, Action.CHANGE).exists():
        raise PermissionDenied("You are not an owner or member of any organisation.")
    form = TenantCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            tenant = tenant_create(organization=form.cleaned_data["organization"], by=request.user,
                                   request=request, **form.service_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Cluster {tenant.name} is being created.")
            return redirect("tenants:detail", pk=tenant.pk)
    status = 400 if form.is_bound else 200
    return render_page(request, page="tenants/create.html", partial="tenants/partials/create_form.html",
                       context={"form": form}, status=status)


@login_required
@require_POST
def cluster_validate(request):
    """Inline validation: the triggering field's error list, plus (out of band) the live summary and
    the errors of fields checked together with it."""
    form = TenantCreateForm(request.POST, user=request.user)
    form.is_valid()
    trigger = request.htmx.trigger_name if request.htmx else None
    fields = [trigger] if trigger in form.fields else []
    related = [f for f in NETWORK_FIELDS if f != trigger] if trigger in NETWORK_FIELDS else []
    return render(request, "tenants/partials/validate_response.html", {
        "form": form,
        "fields": [form[f] for f in fields],
        "oob_fields": [form[f] for f in related],
        "summary": form.summary(),
    })


@login_required
def cluster_detail(request, pk):
    tenant = tenant_for(request.user, pk, Action.VIEW)
    context = {
        "tenant": tenant,
        "upgrades": tenant.upgrades.select_related("requested_by"),
        "can_change": can(request.user, Action.CHANGE, tenant) and tenant.phase != Phase.DELETING,
        # Whether the button shows at all; whether it is enabled follows the cluster's state (live).
        "can_download": can(request.user, Action.DOWNLOAD_KUBECONFIG, tenant),
        "can_break_glass": is_operator(request.user) and tenant.phase != Phase.DELETING,
        "break_glass_minutes": int(settings.BREAK_GLASS_VALIDITY.total_seconds() // 60),
        "audit_events": audit_events_for(tenant),
    }
    return render_page(request, page="tenants/detail.html", partial="tenants/partials/detail_body.html",
                       context=context)
