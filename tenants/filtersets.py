"""Filters for cluster lists: the same filterset serves the UI table and the API."""

import django_filters
from django import forms
from django.db.models import Q
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kamaji_ui.api_ids import MAX_ID
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


@extend_schema_field(serializers.IntegerField(min_value=1, max_value=MAX_ID))
class IdFilter(django_filters.NumberFilter):
    """An object id: a whole number in the range ids have (a larger one would overflow the database)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


class UpgradeFilterSet(django_filters.FilterSet):
    # A plain number, not a choice of all clusters: an invalid-choice error for a cluster the caller
    # cannot see would tell them it exists.
    cluster = IdFilter(field_name="tenant_id", label="Cluster id")
    state = django_filters.ChoiceFilter(choices=Upgrade.State.choices)

    class Meta:
        model = Upgrade
        fields = ["cluster", "state"]
