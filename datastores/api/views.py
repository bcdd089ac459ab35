"""REST API for datastores: operators (staff) only.

Everyone else gets 404 on every datastore URL, list included: datastores are infrastructure
people outside operations have no reason to know about (one consistent answer, no probing).
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets

from datastores.api.serializers import DataStoreSerializer
from datastores.filtersets import DataStoreFilterSet
from datastores.models import DataStore
from datastores.selectors import datastores_with_usage
from datastores.services.lifecycle import datastore_delete, datastore_save
from kamaji_ui import api_ids
from kamaji_ui.api_auth import API_AUTHENTICATION_CLASSES, OperatorsOnly


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
        return datastores_with_usage()

    def perform_create(self, serializer):
        serializer.instance = datastore_save(datastore=DataStore(**serializer.validated_data),
                                             changed=serializer.validated_data, by=self.request.user,
                                             request=self.request)

    def perform_update(self, serializer):
        datastore = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(datastore, name, value)
        datastore_save(datastore=datastore, changed=serializer.validated_data, by=self.request.user,
                       request=self.request)

    def perform_destroy(self, instance):
        datastore_delete(datastore=instance, by=self.request.user, request=self.request)
