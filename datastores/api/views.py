"""REST API for datastores: operators (staff) only.

Everyone else gets 404 on every datastore URL, list included: datastores are infrastructure
people outside operations have no reason to know about (one consistent answer, no probing).
"""

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, viewsets

from audit import log as audit
from datastores.api.serializers import SECRET_FIELDS, DataStoreSerializer
from datastores.filtersets import DataStoreFilterSet
from datastores.models import DataStore
from kamaji_ui import api_ids
from kamaji_ui.api_auth import API_AUTHENTICATION_CLASSES
from tenants import selectors
from tenants.authorization import is_operator


class OperatorsOnly(permissions.BasePermission):
    """Anonymous: 401 (log in). Signed in but not staff: 404, as if nothing were here."""

    hides_with_404 = True  # kamaji_ui.api_schema documents the 404 on every operation behind it

    def has_permission(self, request, view):
        if not request.user.is_authenticated:
            return False
        if request.method not in view.allowed_methods and not view.kwargs:
            # DRF answers 405 next: which methods a list route takes is in the public schema anyway
            # (on one object's route, everyone but operators keeps getting the same 404).
            return True
        if not is_operator(request.user):
            raise Http404
        return True


def _audit_fields(datastore: DataStore, changed) -> dict:
    """What to write in the audit log: the field names changed, never the secret values."""
    return {"fields": sorted(changed), "secrets_changed": sorted(set(changed) & set(SECRET_FIELDS))}


@extend_schema_view(
    list=extend_schema(summary="Datastores, with how many clusters each holds"),
    create=extend_schema(summary="Register a datastore"),
    retrieve=extend_schema(summary="One datastore (secrets are reported as set or not, never returned)"),
    partial_update=extend_schema(summary="Change a datastore (omitted secrets are kept)"),
    destroy=extend_schema(summary="Remove a datastore that holds no clusters (409 if it still does)",
                          responses={204: None, 409: OpenApiResponse(description="It still holds clusters")}),
)
class DataStoreViewSet(viewsets.ModelViewSet):
    authentication_classes = API_AUTHENTICATION_CLASSES
    permission_classes = [OperatorsOnly]
    serializer_class = DataStoreSerializer
    queryset = DataStore.objects.none()  # for the schema; requests use get_queryset
    filterset_class = DataStoreFilterSet
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = api_ids.ID_ROUTE_REGEX

    def get_queryset(self):
        return selectors.datastores_with_usage()

    def perform_create(self, serializer):
        datastore = serializer.save()
        audit.record(self.request.user, "datastore.create", datastore, request=self.request,
                     **_audit_fields(datastore, serializer.validated_data))

    def perform_update(self, serializer):
        datastore = serializer.save()
        audit.record(self.request.user, "datastore.update", datastore, request=self.request,
                     **_audit_fields(datastore, serializer.validated_data))

    def perform_destroy(self, instance):
        audit.record(self.request.user, "datastore.delete", instance, request=self.request)
        instance.delete()
