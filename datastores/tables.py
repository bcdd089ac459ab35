"""Datastore table for the operator console: capacity and health at a glance."""

import django_tables2 as tables

from datastores.models import DataStore
from kamaji_ui.tables import TABLE_TEMPLATE

NUMERIC = {"td": {"class": "num"}, "th": {"class": "num"}}


class DataStoreTable(tables.Table):
    name = tables.Column(linkify=("console:datastore-edit", {"pk": tables.A("pk")}))
    driver = tables.Column()
    tenant_count = tables.Column(verbose_name="Tenants", attrs=NUMERIC)
    not_ready_count = tables.Column(verbose_name="Not ready", attrs=NUMERIC)
    max_tenants = tables.Column(verbose_name="Limit", default="∞", attrs=NUMERIC)
    # Checked periodically by the leading controller (datastores.services.health.run_health_checks).
    healthy = tables.TemplateColumn(
        template_code=(
            '{% load cluster_time %}'
            '<span class="health" data-healthy="{{ record.healthy|yesno:"true,false,unknown" }}">'
            '{% if record.healthy is None %}<span class="status">unknown</span>'
            '{% elif record.healthy %}<span class="status status-true">healthy</span>'
            '{% else %}<span class="status status-false">unhealthy</span>{% endif %}'
            '{% if record.health_checked_at %} <span class="muted nowrap">· checked '
            "{{ record.health_checked_at|ticking_age }} ago</span>"
            '{% else %} <span class="muted">· not checked yet</span>{% endif %}'
            '{% if record.health_message %}<span class="health-message muted">{{ record.health_message }}</span>'
            "{% endif %}</span>"
        ),
        verbose_name="Health",
    )
    enabled = tables.BooleanColumn()
    is_default = tables.BooleanColumn(verbose_name="Default")

    class Meta:
        model = DataStore
        template_name = TABLE_TEMPLATE
        fields = ("name", "driver", "tenant_count", "not_ready_count", "max_tenants", "healthy", "enabled",
                  "is_default")
        attrs = {"class": "table", "id": "datastore-table"}
        empty_text = "No datastores registered yet."
