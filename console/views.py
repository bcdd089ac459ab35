"""Operator console: the whole fleet, datastore registration and the audit log. Staff only; others get 404."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_http_methods
from django_tables2 import RequestConfig

from audit.filtersets import AuditEventFilterSet
from audit.tables import AuditEventTable
from console.selectors import datastores_with_load
from datastores.forms import DataStoreForm
from datastores.models import DataStore
from datastores.services.lifecycle import datastore_save
from datastores.tables import DataStoreTable
from kamaji_ui.web import operator_required, render_page
from tenants.authorization import Action, organizations_for
from tenants.selectors import audit_events_visible_to, tenant_list_for, tenants_not_ready
from tenants.tables import TenantTable


@operator_required
def overview(request):
    config = RequestConfig(request, paginate={"per_page": 15})
    clusters = TenantTable(tenant_list_for(request.user), prefix="all-")
    not_ready = TenantTable(tenants_not_ready(), prefix="nr-", exclude=("datastore", "created_at"),
                            attrs={"class": "table", "id": "not-ready-table"})
    datastores = DataStoreTable(datastores_with_load(), prefix="ds-")
    for table in (clusters, not_ready, datastores):
        config.configure(table)
    return render_page(request, page="console/overview.html", partial="console/partials/overview_body.html",
                       context={"clusters": clusters, "not_ready": not_ready, "datastores": datastores})


@operator_required
@require_http_methods(["GET", "POST"])
def datastore_edit(request, pk=None):
    datastore = get_object_or_404(DataStore, pk=pk) if pk else None
    form = DataStoreForm(request.POST or None, instance=datastore)
    if request.method == "POST" and form.is_valid():
        saved = datastore_save(datastore=form.save(commit=False), changed=form.changed_for_audit(),
                               by=request.user, request=request)
        messages.success(request, f"Datastore {saved.name} saved.")
        return redirect("console:overview")
    return render_page(request, page="console/datastore_form.html", partial="console/partials/datastore_form.html",
                       context={"form": form, "datastore": datastore}, status=400 if form.is_bound else 200)


AUDIT_PAGE_SIZE = 50


@operator_required
def audit_log(request):
    filterset = AuditEventFilterSet(request.GET, queryset=audit_events_visible_to(request.user))
    table = AuditEventTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": AUDIT_PAGE_SIZE}).configure(table)
    return render_page(request, page="console/audit.html", partial="console/partials/audit_table.html",
                       context={"filterset": filterset, "table": table,
                                "organizations": organizations_for(request.user, Action.VIEW).order_by("name")})
