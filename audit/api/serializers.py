"""The audit log over REST: read-only."""

from rest_framework import serializers

from audit.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name", read_only=True,
                                  help_text="Username of who did it; empty for the system.")
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    data = serializers.JSONField(read_only=True, help_text="Action-specific details (never secrets).")

    class Meta:
        model = AuditEvent
        fields = ("id", "at", "actor", "action", "object_type", "object_id", "object_repr", "organization",
                  "remote_addr", "data")
        read_only_fields = fields
