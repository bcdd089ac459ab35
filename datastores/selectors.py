"""Reads of datastores (operators only; callers check)."""

from django.db.models import Count

from datastores.models import DataStore


def datastores_with_usage():
    """Datastores, each annotated with `tenant_count`: how many clusters it holds."""
    return DataStore.objects.annotate(tenant_count=Count("tenants")).order_by("name")
