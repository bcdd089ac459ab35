"""Reads of the audit log that need no one's permissions (callers have checked); scoping by organisation
is tenants.selectors.audit_events_visible_to."""

from audit.models import AuditEvent


def audit_events_for(obj, limit: int = 10):
    """The latest audit events about one object."""
    return AuditEvent.objects.filter(object_type=obj._meta.model_name, object_id=str(obj.pk)).order_by("-at", "-id")[
        :limit
    ]
