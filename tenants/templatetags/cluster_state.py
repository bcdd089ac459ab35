"""What a cluster's state allows, for templates (the rules live in the services)."""

from django import template

from tenants.services.kubeconfig_download import download_unavailable_reason

register = template.Library()


@register.filter
def kubeconfig_unavailable(tenant) -> str:
    """Why `tenant` offers no kubeconfig download yet, or "" when it does."""
    return download_unavailable_reason(tenant)
