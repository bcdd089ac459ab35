"""REST representation of datastores (operators only).

Secrets (CA key, client key, password) are write-only: they can be set or replaced, never read
back; the API says only whether each is set. Omitting one on PATCH keeps it; "" clears it.
"""

import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from datastores.models import DataStore
from kamaji_ui.api_errors import as_api_validation_error
from kamaji_ui.api_strict import StrictJSONTypes

SECRET_FIELDS = DataStore.SECRET_FIELDS


class DataStoreSerializer(StrictJSONTypes, serializers.ModelSerializer):
    """A datastore server; secrets are write-only."""

    ca_key_set = serializers.SerializerMethodField()
    client_key_set = serializers.SerializerMethodField()
    password_set = serializers.SerializerMethodField()
    tenant_count = serializers.SerializerMethodField(help_text="Clusters whose state this datastore holds.")

    class Meta:
        model = DataStore
        fields = (
            "id", "name", "driver", "endpoints", "ca_certificate", "client_certificate", "username",
            *SECRET_FIELDS, "ca_key_set", "client_key_set", "password_set",
            "max_tenants", "enabled", "is_default", "healthy", "health_message", "health_checked_at",
            "tenant_count", "created_at", "updated_at",
        )
        read_only_fields = ("id", "healthy", "health_message", "health_checked_at", "created_at", "updated_at")
        # Secrets are taken byte for byte: a password may end in a space, a PEM in a newline.
        extra_kwargs = {
            name: {"write_only": True, "required": False, "allow_blank": True, "trim_whitespace": False,
                   "style": {"input_type": "password"}}
            for name in SECRET_FIELDS
        }

    def get_ca_key_set(self, datastore) -> bool:
        return bool(datastore.ca_key)

    def get_client_key_set(self, datastore) -> bool:
        return bool(datastore.client_key)

    def get_password_set(self, datastore) -> bool:
        return bool(datastore.password)

    def get_tenant_count(self, datastore) -> int:
        annotated = getattr(datastore, "tenant_count", None)  # from datastores.selectors.datastores_with_usage
        return annotated if annotated is not None else datastore.tenants.count()

    def validate(self, attrs):
        # The model's own rules (clean(): endpoints, certificate+key pairs) on the would-be row.
        candidate = copy.copy(self.instance) if self.instance is not None else DataStore()
        for name, value in attrs.items():
            setattr(candidate, name, value)
        try:
            candidate.full_clean(validate_unique=False)
        except DjangoValidationError as exc:
            raise as_api_validation_error(exc) from exc
        return attrs
