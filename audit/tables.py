"""The audit log as a table (django-tables2) for the operator console."""

import json

import django_tables2 as tables

from audit.models import AuditEvent
from kamaji_ui.tables import TABLE_TEMPLATE


class AuditEventTable(tables.Table):
    at = tables.DateTimeColumn(verbose_name="Time", format="Y-m-d H:i:s", attrs={"td": {"class": "mono"}})
    actor_name = tables.Column(verbose_name="Actor", default="system")
    action = tables.Column(attrs={"td": {"class": "mono"}})
    object_repr = tables.Column(verbose_name="Object", default="—", order_by=("object_type", "object_repr"))
    organization = tables.Column(verbose_name="Organisation", default="—", order_by=("organization__name",))
    remote_addr = tables.Column(verbose_name="From", default="—", attrs={"td": {"class": "mono"}})
    data = tables.Column(verbose_name="Details", orderable=False, attrs={"td": {"class": "mono audit-data"}})

    class Meta:
        model = AuditEvent
        template_name = TABLE_TEMPLATE
        fields = ("at", "actor_name", "action", "object_repr", "organization", "remote_addr", "data")
        attrs = {"class": "table", "id": "audit-table-el"}
        empty_text = "No audit events match."
        row_attrs = {"data-action": lambda record: record.action}

    def render_object_repr(self, record):
        return f"{record.object_type} {record.object_repr}" if record.object_type else record.object_repr

    def render_data(self, value):
        return ", ".join(f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in value.items()) or "—"
