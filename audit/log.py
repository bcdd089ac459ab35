"""The one way to write the audit log."""

from audit.models import AuditEvent


def client_address(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(actor, action: str, obj=None, *, request=None, organization=None, **data) -> AuditEvent:
    """Record that `actor` (a user, or None for the system) did `action` to `obj`."""
    if organization is None and obj is not None:
        organization = getattr(obj, "organization", None)
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=getattr(actor, "username", "") or "",
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        organization=organization,
        remote_addr=client_address(request),
        data=data,
    )
