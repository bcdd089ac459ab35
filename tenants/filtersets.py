"""Filters for cluster lists: the same filterset serves the UI table and the API."""

import django_filters
from django.db.models import Q

from tenants.models import Phase, TenantControlPlane, Upgrade


class TenantFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    phase = django_filters.ChoiceFilter(choices=Phase.choices)
    kubernetes_version = django_filters.CharFilter()
    organization = django_filters.CharFilter(field_name="organization__slug", label="Organization")

    class Meta:
        model = TenantControlPlane
        fields = ["q", "phase", "kubernetes_version", "organization"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(organization__name__icontains=value) | Q(endpoint__icontains=value)
        )


class UpgradeFilterSet(django_filters.FilterSet):
    # A plain number, not a choice of all clusters: an invalid-choice error for a cluster the caller
    # cannot see would tell them it exists.
    cluster = django_filters.NumberFilter(field_name="tenant_id", label="Cluster id")
    state = django_filters.ChoiceFilter(choices=Upgrade.State.choices)

    class Meta:
        model = Upgrade
        fields = ["cluster", "state"]
