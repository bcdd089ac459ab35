"""Filters for the audit log: the same filterset serves the operator console table and /api/audit/."""

import django_filters
from django.db.models import Q

from audit.models import AuditEvent


class AuditEventFilterSet(django_filters.FilterSet):
    action = django_filters.CharFilter(lookup_expr="startswith", label="Action",
                                       help_text="An action, or its start (cluster.kubeconfig matches both kinds)")
    actor = django_filters.CharFilter(field_name="actor_name", lookup_expr="iexact", label="Actor (username)")
    organization = django_filters.CharFilter(field_name="organization__slug", label="Organisation (slug)")
    q = django_filters.CharFilter(method="search", label="Object",
                                  help_text="Searches the object's name, type and id")
    at = django_filters.DateFromToRangeFilter(label="Date range",
                                              help_text="at_after / at_before: YYYY-MM-DD, both inclusive")

    class Meta:
        model = AuditEvent
        fields = ["action", "actor", "organization", "q", "at"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(object_repr__icontains=value) | Q(object_type__iexact=value) | Q(object_id=value)
        )
