"""Reads for the operator console that span apps."""

from django.db.models import Count, Q

from datastores.selectors import datastores_with_usage
from tenants.models import Phase


def datastores_with_load():
    """Datastores with `tenant_count` and `not_ready_count` (clusters on it that are not Ready)."""
    return datastores_with_usage().annotate(not_ready_count=Count("tenants", filter=~Q(tenants__phase=Phase.READY)))
