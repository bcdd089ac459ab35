"""REST representations of clusters, upgrades and organisations.

Writes go through tenants.services.lifecycle, which validates with the model's own rules
(full_clean); the API and the forms therefore share every rule by construction. Rules the
services raise as django ValidationError become field-keyed 400s in kamaji_ui.api_errors.
"""

from rest_framework import serializers

from datastores.models import DataStore
from kamaji_ui.api_strict import StrictJSONTypes
from kamaji_ui.operators import is_operator
from tenants import validation
from tenants.authorization import ALLOWED_ROLES, Action, organizations_for
from tenants.models import Organization, TenantControlPlane, Upgrade
from tenants.services import lifecycle

STATUS_FIELDS = ("phase", "conditions", "endpoint", "observed_version", "generation", "observed_generation")


def _request_user(serializer):
    return serializer.context["request"].user


class CreatableOrganizationField(serializers.SlugRelatedField):
    """An organisation by slug, limited to those the caller may create clusters in.

    An organisation the caller cannot create in gets the same answer as an unknown slug, so
    the API does not reveal which organisations exist.
    """

    default_error_messages = {
        "does_not_exist": "No organisation '{value}' in which you may create clusters.",
        "invalid": "Give an organisation slug.",
    }

    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", **kwargs)

    def get_queryset(self):
        return organizations_for(_request_user(self.parent), Action.CHANGE)


class DataStoreChoiceField(serializers.PrimaryKeyRelatedField):
    """Operators may pin a cluster to a datastore; everyone else leaves it to automatic assignment."""

    default_error_messages = {
        "does_not_exist": "No datastore {pk_value} you may choose; leave it empty to assign one automatically.",
    }

    def get_queryset(self):
        return DataStore.objects.all() if is_operator(_request_user(self.parent)) else DataStore.objects.none()


class ClusterSerializer(StrictJSONTypes, serializers.ModelSerializer):
    """A tenant cluster: the spec you set and the status the controller reports."""

    organization = CreatableOrganizationField()
    datastore = DataStoreChoiceField(required=False, allow_null=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True,
                                              help_text="Username; null once that account is gone.")

    class Meta:
        model = TenantControlPlane
        fields = (
            "id", "uid", "organization", *lifecycle.CREATE_FIELDS, *STATUS_FIELDS,
            "created_by", "created_at", "updated_at",
        )
        read_only_fields = ("id", "uid", *STATUS_FIELDS, "created_at", "updated_at")
        # Uniqueness is checked by the model's full_clean in the service (one rule, one message).
        validators = []
        extra_kwargs = {"dns_service_ip": {"validators": [validation.validate_ip_address]}}

    def create(self, validated_data):
        request = self.context["request"]
        return lifecycle.tenant_create(
            organization=validated_data.pop("organization"), by=request.user, request=request, **validated_data
        )


class ClusterUpdateSerializer(ClusterSerializer):
    """PATCH: only what may change after creation; naming anything else is a field error, not a no-op."""

    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    datastore = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta(ClusterSerializer.Meta):
        read_only_fields = tuple(
            f for f in ClusterSerializer.Meta.fields if f not in lifecycle.UPDATE_FIELDS
        )

    def validate(self, attrs):
        fixed = sorted(set(self.initial_data) & (set(lifecycle.CREATE_FIELDS) - set(lifecycle.UPDATE_FIELDS)))
        if fixed:
            raise serializers.ValidationError({f: ["This field cannot be changed after creation."] for f in fixed})
        return attrs

    def update(self, instance, validated_data):
        request = self.context["request"]
        return lifecycle.tenant_update(tenant=instance, by=request.user, request=request, **validated_data)


class UpgradeSerializer(StrictJSONTypes, serializers.ModelSerializer):
    """A version change of one cluster, with its steps."""

    cluster = serializers.PrimaryKeyRelatedField(source="tenant", read_only=True)
    cluster_name = serializers.CharField(source="tenant.name", read_only=True)
    organization = serializers.CharField(source="tenant.organization.slug", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True,
                                                help_text="Username; null for the system or a removed account.")

    class Meta:
        model = Upgrade
        fields = (
            "id", "cluster", "cluster_name", "organization", "from_version", "to_version", "state",
            "requested_by", "created_at", "started_at", "finished_at", "steps",
        )
        read_only_fields = tuple(f for f in fields if f != "to_version")

    def create(self, validated_data):
        request = self.context["request"]
        return lifecycle.upgrade_request(
            tenant=self.context["tenant"], to_version=validated_data["to_version"], by=request.user, request=request
        )


class OrganizationSerializer(serializers.ModelSerializer):
    role = serializers.CharField(
        read_only=True, allow_null=True, help_text="Your role here; null for operators who are not members."
    )
    can_create_clusters = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = ("slug", "name", "role", "can_create_clusters")

    def get_can_create_clusters(self, org) -> bool:
        return is_operator(_request_user(self)) or org.role in ALLOWED_ROLES[Action.CHANGE]


class BreakGlassSerializer(StrictJSONTypes, serializers.Serializer):
    """Why an operator needs administrator access."""

    reason = serializers.CharField(max_length=500, help_text="Why you need administrator access (audited).")
