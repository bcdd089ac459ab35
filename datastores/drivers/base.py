"""The one interface every datastore driver implements, and what it hands a tenant's control plane."""

import hashlib
import hmac
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from django.conf import settings

if TYPE_CHECKING:
    from datastores.models import DataStore


class TenantIdentity(Protocol):
    """All a driver knows of a tenant: its uid, which names its user, role, prefix or database."""

    uid: UUID


@dataclass(frozen=True)
class TenantConnection:
    """What a tenant's control plane needs to reach its slice of the datastore."""

    driver: str  # "etcd" | "postgresql" | "mysql" | "nats"
    endpoints: list[str] = field(default_factory=list)  # etcd: server URLs; SQL: kine's --endpoint DSN (one item)
    prefix: str = ""  # etcd key prefix for --etcd-prefix, e.g. "/kamaji-ui/<tenant.uid>"
    ca_pem: str = ""  # CA to verify the datastore server
    client_cert_pem: str = ""  # the tenant's OWN client identity (etcd: CN = its etcd user)
    client_key_pem: str = ""
    username: str = ""
    password: str = ""


class DriverError(Exception):
    """A datastore said no, or could not be reached. The message is for people; `temporary` means retry later."""

    def __init__(self, message: str, *, temporary: bool = False):
        super().__init__(message)
        self.temporary = temporary


class Driver(ABC):
    """Provision and remove one tenant's slice of one datastore. Every operation is idempotent."""

    def __init__(self, datastore: "DataStore"):
        self.datastore = datastore

    @abstractmethod
    def provision(self, tenant: TenantIdentity, *, current: TenantConnection | None = None) -> TenantConnection:
        """Idempotent: create user/role/grants (etcd) or database/user (SQL) for this tenant.

        When `current` is given and its client certificate is valid for longer than
        settings.CERTIFICATE_RENEW_BEFORE, reuse it instead of issuing a new one.
        """

    @abstractmethod
    def deprovision(self, tenant: TenantIdentity) -> None:
        """Idempotent: remove the tenant's data (keys under its prefix / its database), then its role and user."""

    @abstractmethod
    def health(self) -> tuple[bool, str]:
        """(healthy, a short human message). Never raises for an unreachable server: that is unhealthy."""

    @abstractmethod
    def usage(self, tenant: TenantIdentity) -> int:
        """How much the tenant uses: keys under its prefix (etcd), bytes of its database (SQL)."""


def tenant_password(tenant: TenantIdentity) -> str:
    """The tenant's datastore password, derived so that nothing new is stored and re-provisioning converges."""
    return hmac.new(settings.SECRET_KEY.encode(), str(tenant.uid).encode(), hashlib.sha256).hexdigest()
