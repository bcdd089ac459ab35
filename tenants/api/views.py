"""REST API for clusters, their upgrades and kubeconfigs, and the caller's organisations.

Thin: lists come from tenants.selectors (scoped to the caller), single clusters from
tenants.authorization.tenant_for (404 when the caller may not know it exists, 403 when they
may see it but their role does not allow the action), changes from tenants.services.lifecycle.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from kamaji_ui import api_ids
from kamaji_ui.api_auth import API_AUTHENTICATION_CLASSES, OperatorsOnly
from kamaji_ui.api_errors import Conflict
from tenants import selectors
from tenants.api.serializers import (
    BreakGlassSerializer,
    ClusterSerializer,
    ClusterUpdateSerializer,
    OrganizationSerializer,
    UpgradeSerializer,
)
from tenants.authorization import Action, tenant_for
from tenants.filtersets import TenantFilterSet, UpgradeFilterSet
from tenants.models import TenantControlPlane, Upgrade
from tenants.services import lifecycle
from tenants.services.kubeconfig_download import (
    KubeconfigUnavailable,
    issue_break_glass_kubeconfig_for,
    issue_kubeconfig_for,
    kubeconfig_response,
)


class SignedInOnly:
    """Every view here: a token or a session, and signed in (anonymous: 401)."""

    authentication_classes = API_AUTHENTICATION_CLASSES
    permission_classes = [permissions.IsAuthenticated]


@extend_schema_view(
    list=extend_schema(summary="Clusters you may see"),
    create=extend_schema(summary="Create a cluster", responses={201: ClusterSerializer}),
    retrieve=extend_schema(summary="One cluster, with its status"),
    partial_update=extend_schema(summary="Change what may change after creation",
                                 request=ClusterUpdateSerializer, responses=ClusterSerializer),
    destroy=extend_schema(summary="Delete a cluster (asynchronous)", request=None,
                          responses={202: ClusterSerializer}),
)
class ClusterViewSet(
    SignedInOnly,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ClusterSerializer
    filterset_class = TenantFilterSet
    queryset = TenantControlPlane.objects.none()  # for the schema; requests use get_queryset
    # PUT would mean "replace", but most of a cluster cannot change after creation: PATCH only.
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = api_ids.ID_ROUTE_REGEX

    def get_queryset(self):
        return selectors.tenant_list_for(self.request.user)

    def get_serializer_class(self):
        if self.action == "partial_update":
            return ClusterUpdateSerializer
        if self.action == "upgrades":
            return UpgradeSerializer
        if self.action == "break_glass_kubeconfig":
            return BreakGlassSerializer
        return ClusterSerializer

    def cluster(self, needed: Action) -> TenantControlPlane:
        return tenant_for(self.request.user, self.kwargs["pk"], needed)

    def get_object(self):
        needed = Action.VIEW if self.request.method in permissions.SAFE_METHODS else Action.CHANGE
        return self.cluster(needed)

    def destroy(self, request, *args, **kwargs):
        tenant = lifecycle.tenant_delete(tenant=self.get_object(), by=request.user, request=request)
        return Response(ClusterSerializer(tenant, context=self.get_serializer_context()).data,
                        status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Your personal kubeconfig for this cluster (short-lived, issued per person)",
        request=None,
        responses={
            (200, "application/yaml"): OpenApiResponse(OpenApiTypes.STR, description="kubeconfig YAML"),
            403: OpenApiResponse(description="Your role does not allow downloading kubeconfigs"),
            409: OpenApiResponse(description="The cluster has no endpoint or certificates yet"),
        },
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def kubeconfig(self, request, pk=None):
        tenant = self.cluster(Action.DOWNLOAD_KUBECONFIG)
        try:
            text = issue_kubeconfig_for(user=request.user, tenant=tenant, request=request)
        except KubeconfigUnavailable as exc:
            raise Conflict(str(exc)) from exc
        return kubeconfig_response(tenant, request.user, text)

    @extend_schema(
        summary="Operators: a break-glass kubeconfig (system:masters, short-lived, the reason is audited)",
        description="Staff only; everyone else gets 404. Valid for KAMAJI_UI_BREAK_GLASS_MINUTES (default 60).",
        request=BreakGlassSerializer,
        responses={
            (200, "application/yaml"): OpenApiResponse(OpenApiTypes.STR, description="kubeconfig YAML"),
            400: OpenApiResponse(description="No reason given"),
            409: OpenApiResponse(description="The cluster has no endpoint or certificates yet"),
        },
    )
    @action(detail=True, methods=["post"], url_path="break-glass-kubeconfig", filter_backends=[],
            pagination_class=None, permission_classes=[OperatorsOnly])
    def break_glass_kubeconfig(self, request, pk=None):
        tenant = self.cluster(Action.VIEW)
        serializer = BreakGlassSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            text = issue_break_glass_kubeconfig_for(user=request.user, tenant=tenant,
                                                    reason=serializer.validated_data["reason"], request=request)
        except KubeconfigUnavailable as exc:
            raise Conflict(str(exc)) from exc
        return kubeconfig_response(tenant, request.user, text, break_glass=True)

    @extend_schema(methods=["GET"], summary="Upgrades of this cluster", responses=UpgradeSerializer(many=True))
    @extend_schema(methods=["POST"], summary="Upgrade to the next minor version", request=UpgradeSerializer,
                   responses={201: UpgradeSerializer})
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def upgrades(self, request, pk=None):
        if request.method == "POST":
            tenant = self.cluster(Action.CHANGE)
            serializer = UpgradeSerializer(data=request.data, context={**self.get_serializer_context(),
                                                                       "tenant": tenant})
            serializer.is_valid(raise_exception=True)
            serializer.save()
            return Response(serializer.data, status=status.HTTP_201_CREATED)
        tenant = self.cluster(Action.VIEW)
        page = self.paginate_queryset(tenant.upgrades.select_related("tenant__organization", "requested_by"))
        return self.get_paginated_response(UpgradeSerializer(page, many=True).data)


@extend_schema_view(list=extend_schema(summary="Upgrades of every cluster you may see"))
class UpgradeViewSet(SignedInOnly, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = UpgradeSerializer
    queryset = Upgrade.objects.none()  # for the schema; requests use get_queryset
    filterset_class = UpgradeFilterSet

    def get_queryset(self):
        return selectors.upgrades_for(self.request.user).select_related("tenant__organization")


@extend_schema(summary="Your organisations and your role in each")
class OrganizationListView(SignedInOnly, generics.ListAPIView):
    serializer_class = OrganizationSerializer
    filter_backends = []

    def get_queryset(self):
        return selectors.organizations_with_role_for(self.request.user)
