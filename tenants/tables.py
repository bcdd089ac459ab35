"""Cluster tables for the UI (django-tables2): the cluster list and the operator console."""

import django_tables2 as tables

from kamaji_ui.tables import TABLE_TEMPLATE
from tenants.models import TenantControlPlane


class TenantTable(tables.Table):
    name = tables.Column(linkify=("tenants:detail", {"pk": tables.A("pk")}), attrs={"a": {"class": "strong"}})
    organization = tables.Column(order_by=("organization__name",))
    phase = tables.TemplateColumn(
        template_code='{% include "tenants/partials/phase_badge.html" with tenant=record %}', verbose_name="Phase"
    )
    kubernetes_version = tables.Column(verbose_name="Version")
    replicas = tables.Column(verbose_name="Replicas", attrs={"td": {"class": "num"}, "th": {"class": "num"}})
    service_type = tables.Column(verbose_name="Service")
    endpoint = tables.Column(default="—", attrs={"td": {"class": "mono"}})
    datastore = tables.Column(default="auto", order_by=("datastore__name",))
    created_at = tables.TemplateColumn(  # the age ticks in the browser; the date is its title
        template_code="{% load cluster_time %}{{ record.created_at|ticking_age }}", verbose_name="Age",
        order_by=("created_at",),
    )

    class Meta:
        model = TenantControlPlane
        template_name = TABLE_TEMPLATE
        fields = ("name", "organization", "phase", "kubernetes_version", "replicas", "service_type", "endpoint",
                  "datastore", "created_at")
        attrs = {"class": "table", "id": "cluster-table-el"}
        empty_text = "No clusters match."
        row_attrs = {"data-cluster": lambda record: record.name}

    def render_service_type(self, record):
        return record.service_type  # the Kubernetes spelling, as in the manifests
