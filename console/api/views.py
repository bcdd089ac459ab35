"""/api/audit/: the audit log, scoped by tenants.selectors.audit_events_visible_to (operators see all
of it; everyone else the events of the organisations they belong to). Read-only."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions

from audit.api.serializers import AuditEventSerializer
from audit.filtersets import AuditEventFilterSet
from audit.models import AuditEvent
from kamaji_ui.api_auth import API_AUTHENTICATION_CLASSES
from tenants import selectors


@extend_schema(summary="Audit events you may read (operators: all; others: your organisations'), newest first")
class AuditEventListView(generics.ListAPIView):
    authentication_classes = API_AUTHENTICATION_CLASSES
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilterSet
    queryset = AuditEvent.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        return selectors.audit_events_visible_to(self.request.user)
