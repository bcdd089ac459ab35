import uuid

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from tenants import validation


class Organization(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def admin_group(self) -> str:
        """The Kubernetes group that members' kubeconfigs carry inside every tenant cluster."""
        return f"kamaji-ui:org:{self.slug}:admins"


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"
        VIEWER = "viewer", "Viewer"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org")]

    def __str__(self):
        return f"{self.user} in {self.organization} ({self.role})"


class Phase(models.TextChoices):
    PENDING = "Pending"
    PROVISIONING = "Provisioning"
    READY = "Ready"
    NOT_READY = "NotReady"
    UPGRADING = "Upgrading"
    MIGRATING = "Migrating"
    DELETING = "Deleting"
    FAILED = "Failed"


class ServiceType(models.TextChoices):
    CLUSTER_IP = "ClusterIP"
    NODE_PORT = "NodePort"
    LOAD_BALANCER = "LoadBalancer"


def default_version() -> str:
    return settings.DEFAULT_KUBERNETES_VERSION


class TenantControlPlane(models.Model):
    """Desired state of one tenant's control plane; the controller makes it real."""

    # Fields whose change is a spec change (bumps `generation`, triggers a reconcile).
    SPEC_FIELDS = (
        "kubernetes_version", "replicas", "service_type", "port", "cert_sans", "datastore_id",
        "addon_coredns", "addon_kube_proxy", "addon_konnectivity", "pod_cidr", "service_cidr",
        "dns_service_ip",
    )

    uid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="clusters")
    name = models.CharField(max_length=validation.NAME_MAX, validators=[validation.validate_cluster_name])
    kubernetes_version = models.CharField(
        max_length=32, default=default_version, validators=[validation.validate_kubernetes_version]
    )
    replicas = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(5)])
    service_type = models.CharField(max_length=16, choices=ServiceType.choices, default=ServiceType.NODE_PORT)
    port = models.PositiveIntegerField(default=6443, validators=[MinValueValidator(1), MaxValueValidator(65535)])
    cert_sans = models.JSONField(default=list, blank=True, validators=[validation.validate_sans])
    datastore = models.ForeignKey(
        "datastores.DataStore", null=True, blank=True, on_delete=models.PROTECT, related_name="tenants",
        help_text="empty: assign automatically",
    )
    addon_coredns = models.BooleanField(default=True)
    addon_kube_proxy = models.BooleanField(default=True)
    addon_konnectivity = models.BooleanField(default=False)
    pod_cidr = models.CharField(max_length=64, default="10.244.0.0/16", validators=[validation.validate_cidr])
    service_cidr = models.CharField(max_length=64, default="10.96.0.0/16", validators=[validation.validate_cidr])
    dns_service_ip = models.GenericIPAddressField(default="10.96.0.10")

    # Status, written by the controller.
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.PENDING, db_index=True)
    conditions = models.JSONField(default=list, blank=True)
    endpoint = models.CharField(max_length=255, blank=True)
    observed_version = models.CharField(max_length=32, blank=True)
    generation = models.PositiveBigIntegerField(default=1)
    observed_generation = models.PositiveBigIntegerField(default=0)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization__name", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="cluster_name_unique_per_org")]

    def __str__(self):
        return f"{self.organization.slug}/{self.name}"

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_spec = instance.spec_snapshot()
        return instance

    def spec_snapshot(self) -> dict:
        return {f: getattr(self, f) for f in self.SPEC_FIELDS if f in self.__dict__}

    def spec_changed(self) -> bool:
        loaded = getattr(self, "_loaded_spec", None)
        return loaded is not None and loaded != self.spec_snapshot()

    def save(self, *args, **kwargs):
        if self.pk and self.spec_changed():
            self.generation += 1
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "generation"}
        super().save(*args, **kwargs)
        self._loaded_spec = self.spec_snapshot()

    def validate_constraints(self, exclude=None):
        """The (organization, name) constraint is about the name: one error on `name`, for the forms and
        the API alike (Django reports a constraint on several fields form-wide)."""
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict({})
            general = errors.pop(NON_FIELD_ERRORS, [])
            clashes = [e for e in general if e.code == "unique_together"]
            if not clashes:
                raise
            if rest := [e for e in general if e not in clashes]:
                errors[NON_FIELD_ERRORS] = rest
            errors.setdefault("name", []).append(ValidationError(
                f"This organisation already has a cluster named {self.name!r}.", code="unique"))
            raise ValidationError(errors) from exc

    def clean(self):
        errors = validation.validate_networks(
            pod_cidr=self.pod_cidr, service_cidr=self.service_cidr, dns_service_ip=str(self.dns_service_ip)
        )
        if errors:
            raise ValidationError(errors)

    # Names in the management cluster (stable for the cluster's life).
    @property
    def namespace(self) -> str:
        return f"kui-{self.pk}-{self.name}"

    @property
    def resource_name(self) -> str:
        return self.name

    @property
    def ws_group(self) -> str:
        """Channel-layer group that carries this cluster's live status."""
        return f"tenant.{self.pk}"

    def condition(self, type_: str) -> dict | None:
        return next((c for c in self.conditions if c.get("type") == type_), None)

    def set_condition(self, type_: str, status: bool, reason: str, message: str = "") -> bool:
        """Set one condition; the transition time moves only when the status flips. Returns changed."""
        new_status = "True" if status else "False"
        current = self.condition(type_)
        if current and (current["status"], current["reason"], current["message"]) == (new_status, reason, message):
            return False
        entry = {
            "type": type_, "status": new_status, "reason": reason, "message": message,
            "lastTransitionTime": (
                current["lastTransitionTime"] if current and current["status"] == new_status
                else timezone.now().isoformat(timespec="seconds")
            ),
        }
        self.conditions = [c for c in self.conditions if c.get("type") != type_] + [entry]
        return True


class UpgradeQuerySet(models.QuerySet):
    def in_progress(self):
        """Upgrades asked for and not finished (at most one per cluster: the services see to it)."""
        return self.filter(state__in=[Upgrade.State.PENDING, Upgrade.State.RUNNING])


class Upgrade(models.Model):
    class State(models.TextChoices):
        PENDING = "Pending"
        RUNNING = "Running"
        SUCCEEDED = "Succeeded"
        FAILED = "Failed"

    tenant = models.ForeignKey(TenantControlPlane, on_delete=models.CASCADE, related_name="upgrades")
    from_version = models.CharField(max_length=32)
    to_version = models.CharField(max_length=32, validators=[validation.validate_kubernetes_version])
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    steps = models.JSONField(default=list, blank=True, help_text="[{at, message}]")

    objects = UpgradeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.tenant}: {self.from_version} → {self.to_version} ({self.state})"

    def log(self, message: str) -> None:
        self.steps = [*self.steps, {"at": timezone.now().isoformat(timespec="seconds"), "message": message}]


class KubeconfigIssue(models.Model):
    """A kubeconfig handed to a person: kept even after the cluster is gone."""

    class Kind(models.TextChoices):
        USER = "user", "Personal"
        BREAK_GLASS = "break-glass", "Break-glass admin"

    tenant = models.ForeignKey(TenantControlPlane, null=True, on_delete=models.SET_NULL, related_name="kubeconfigs")
    cluster_name = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=150)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.USER)
    serial_number = models.CharField(max_length=64)
    issued_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self):
        return f"{self.kind} kubeconfig for {self.username} on {self.cluster_name}"
