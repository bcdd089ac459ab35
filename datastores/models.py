from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from datastores.drivers.endpoints import outside_allowed_networks
from kamaji_ui.encrypted_fields import EncryptedTextField


class DataStore(models.Model):
    """A server that holds tenant control planes' state (etcd directly, SQL/NATS via kine).

    TLS keys and passwords are encrypted at rest and never echoed back in full.
    """

    # Write-only everywhere: never rendered back or returned; audited by name only.
    SECRET_FIELDS = ("ca_key", "client_key", "password")

    class Driver(models.TextChoices):
        ETCD = "etcd", "etcd"
        POSTGRESQL = "postgresql", "PostgreSQL"
        MYSQL = "mysql", "MySQL"
        NATS = "nats", "NATS"

    name = models.SlugField(max_length=63, unique=True)
    driver = models.CharField(max_length=16, choices=Driver.choices)
    endpoints = models.JSONField(default=list, help_text="host:port or URL, one per server")
    ca_certificate = models.TextField(blank=True, help_text="PEM CA that signed the server certificates")
    ca_key = EncryptedTextField(blank=True, help_text="etcd: CA key, to issue each tenant its own client identity")
    client_certificate = models.TextField(blank=True, help_text="PEM client certificate (admin identity)")
    client_key = EncryptedTextField(blank=True)
    username = models.CharField(max_length=128, blank=True)
    password = EncryptedTextField(blank=True)
    max_tenants = models.PositiveIntegerField(null=True, blank=True, help_text="empty: no limit")
    enabled = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False, help_text="preferred for automatic assignment")
    healthy = models.BooleanField(null=True, blank=True)
    health_message = models.TextField(blank=True)
    health_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        if not isinstance(self.endpoints, list) or not self.endpoints or not all(
            isinstance(e, str) and e.strip() for e in self.endpoints
        ):
            raise ValidationError({"endpoints": "Give at least one endpoint."})
        networks = settings.DATASTORE_ENDPOINT_NETWORKS
        refused = [m for e in self.endpoints if (m := outside_allowed_networks(e, networks))]
        if refused:
            raise ValidationError({"endpoints": refused})
        if bool(self.client_certificate) != bool(self.client_key):
            raise ValidationError({"client_key": "A client certificate and its key go together."})

    @property
    def uses_kine(self) -> bool:
        return self.driver != self.Driver.ETCD
