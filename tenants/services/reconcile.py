"""Reconcile one tenant: level-triggered, idempotent, safe to interrupt at any point.

Each step looks at the management cluster (not at what happened before), applies what should
be there with server-side apply, and leaves a condition. Nothing needed for correctness is held
in memory: a controller killed anywhere converges to the same end state when it runs again.

    namespace + anchor → datastore slice → Service (endpoint) → PKI + kubeconfigs
    → Deployment + PDB → rollout → tenant API answers → bootstrap inside → status
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import requests
import urllib3
from django.conf import settings
from django.db import transaction
from kubernetes.client.exceptions import ApiException

from audit import log as audit
from datastores.drivers import DriverError
from kamaji_ui.db_locks import retry_when_locked
from tenants.models import Phase, TenantControlPlane, Upgrade
from tenants.services import bootstrap, datastore_slice, pki, status
from tenants.services.crashpoints import crashpoint
from tenants.services.datastore_assignment import NoDatastoreAvailable, assign_datastore
from tenants.services.events import record_event
from tenants.services.kube import Kube, management
from tenants.services.kubeconfig import plan_component_kubeconfigs
from tenants.services.lifecycle import mark_upgrade
from tenants.services.manifests import deployment, labels, namespace, pdb, secrets, service
from tenants.services.tenant_access import probe, probe_readyz, tenant_kube

log = logging.getLogger(__name__)

STATUS_FIELDS = ("phase", "conditions", "endpoint", "observed_version", "observed_generation")
WAIT_SECONDS = 3.0  # requeue while something is on its way (pods starting, namespace terminating)


class RetryLater(Exception):
    """Not a failure: the world is not there yet. The controller retries after `after` seconds."""

    def __init__(self, message: str, *, after: float = WAIT_SECONDS):
        super().__init__(message)
        self.after = after


class ReconcileFailed(Exception):
    """Needs a person: retrying will not help until something changes."""


@dataclass(frozen=True)
class Outcome:
    requeue_after: float | None  # None: settled until the next change, watch event or resync
    phase: str | None = None  # None: the row is gone


def load_tenant(pk: int) -> TenantControlPlane | None:
    return TenantControlPlane.objects.select_related("organization", "datastore").filter(pk=pk).first()


def reconcile_tenant(pk: int, *, kube: Kube | None = None) -> Outcome:
    """Bring tenant `pk` one step closer to its desired state (or delete it). The controller's unit."""
    tenant = load_tenant(pk)
    if tenant is None:
        return Outcome(None)
    kube = kube or management()
    if tenant.phase == Phase.DELETING:
        return reconcile_delete(tenant, kube=kube)
    run = TenantReconcile(tenant, kube)
    try:
        requeue = run.walk()
    except RetryLater as exc:
        run.waiting(str(exc))
        return Outcome(exc.after, run.save())
    except ReconcileFailed as exc:
        run.failed(str(exc))
        return Outcome(None, run.save())
    except Exception as exc:
        run.errored(exc)
        run.save()
        raise
    return Outcome(requeue, run.save())


class TenantReconcile:
    """One pass over one tenant; conditions accumulate on `self.tenant` and are saved at the end."""

    def __init__(self, tenant: TenantControlPlane, kube: Kube):
        self.tenant, self.kube = tenant, kube
        self.before = {f: getattr(tenant, f) for f in STATUS_FIELDS}
        self.generation = tenant.generation
        self.is_failed = False
        self.anchor: dict | None = None
        self.now = datetime.now(UTC)

    # --- the walk -------------------------------------------------------------------------------

    def walk(self) -> float | None:
        self.ensure_namespace()
        datastore_data = self.ensure_datastore()
        endpoint, service_ips = self.ensure_service()
        pki_data, kubeconfigs = self.ensure_certificates(endpoint, service_ips)
        dep = self.ensure_deployment(datastore_data, pki_data, kubeconfigs)
        rolled_out = self.observe_deployment(dep)
        self.tenant.observed_generation = self.generation
        ready = self.ensure_tenant_api(endpoint, pki_data, rolled_out)
        return None if (ready and rolled_out) else WAIT_SECONDS

    def ensure_namespace(self) -> None:
        t, kube = self.tenant, self.kube
        ns = kube.get("Namespace", t.namespace)
        if ns is not None:
            owner_uid = (ns["metadata"].get("labels") or {}).get(labels.TENANT_UID_KEY)
            if owner_uid != str(t.uid):
                raise ReconcileFailed(f"Namespace {t.namespace} exists and belongs to another cluster ({owner_uid}).")
            if ns["metadata"].get("deletionTimestamp"):
                raise RetryLater(f"Namespace {t.namespace} is still terminating.")
        kube.apply(namespace.build_namespace(t))
        self.anchor = kube.apply(namespace.build_anchor(t))

    @property
    def anchor_uid(self) -> str:
        return self.anchor["metadata"]["uid"]

    def event(self, reason: str, message: str, type_: str = "Normal", *, about: dict | None = None) -> None:
        """An Event on the object touched (`about`), else on the tenant's anchor ConfigMap."""
        involved = about or self.anchor
        if involved is not None:
            record_event(self.kube, involved, reason=reason, message=message, type_=type_)

    def ensure_datastore(self) -> dict[str, str]:
        t = self.tenant
        if t.datastore_id is None:
            self.assign_datastore()
        name = secrets.secret_name(t, secrets.DATASTORE)
        stored = secrets.secret_text(self.kube.get("Secret", name, t.namespace))
        try:
            data = datastore_slice.provision_slice(t, stored)
        except DriverError as exc:
            t.set_condition(status.DATASTORE_READY, False, "ProvisioningFailed", str(exc))
            if getattr(exc, "temporary", True):
                raise RetryLater(f"Datastore {t.datastore.name}: {exc}", after=10) from exc
            raise ReconcileFailed(f"Datastore {t.datastore.name}: {exc}") from exc
        if data != stored:
            applied = self.kube.apply(
                secrets.build_secret(t, purpose=secrets.DATASTORE, data=data, anchor_uid=self.anchor_uid))
            self.event("DatastoreProvisioned", f"Slice {data['prefix']} on datastore {t.datastore.name}",
                       about=applied)
        t.set_condition(status.DATASTORE_READY, True, "Provisioned", f"{t.datastore.name}, prefix {data['prefix']}")
        crashpoint("after-datastore")
        return data

    def assign_datastore(self) -> None:
        t = self.tenant
        try:
            assign_datastore(t)
        except NoDatastoreAvailable as exc:
            t.set_condition(status.DATASTORE_READY, False, "NoDatastore", str(exc))
            raise RetryLater(f"No datastore could be assigned: {exc}", after=15) from exc
        fresh = load_tenant(t.pk)
        if fresh is None or fresh.datastore_id is None:
            raise RetryLater("Datastore assignment did not stick; retrying.")
        t.datastore_id, t.datastore = fresh.datastore_id, fresh.datastore
        self.generation = fresh.generation

    def ensure_service(self) -> tuple[str | None, list[str]]:
        """The endpoint (None until the Service has an address) and every IP the Service answers on."""
        t = self.tenant
        svc = self.kube.apply(service.build_service(t, anchor_uid=self.anchor_uid))
        nodes = self.kube.list("Node") if svc["spec"]["type"] == "NodePort" else []
        host, port, cluster_ips = service.service_addresses(svc, nodes=nodes, node_port_host=settings.NODEPORT_HOST)
        # A NodePort answers on every node's address too (hosts on the node network use those).
        service_ips = cluster_ips + service.node_internal_ips(nodes)
        if host and port:
            t.endpoint = service.endpoint_url(host, port)
            t.set_condition(status.ENDPOINT_READY, True, "AddressAssigned", t.endpoint)
            return t.endpoint, service_ips
        t.set_condition(status.ENDPOINT_READY, False, "WaitingForAddress",
                        f"The {t.service_type} Service has no address yet.")
        return None, service_ips

    def ensure_certificates(self, endpoint: str | None, service_ips: list[str]) -> tuple[dict, dict]:
        t, kube = self.tenant, self.kube
        validity = pki.Validity(now=self.now, ca=settings.CA_VALIDITY, leaf=settings.CERTIFICATE_VALIDITY,
                                renew_before=settings.CERTIFICATE_RENEW_BEFORE)
        endpoint_hosts = [endpoint.split("//", 1)[1].rsplit(":", 1)[0].strip("[]")] if endpoint else []
        dns, ips = pki.apiserver_sans(
            service_cidr=t.service_cidr, cluster_domain=settings.CLUSTER_DOMAIN,
            service_name=service.service_name(t), namespace=t.namespace,
            management_domain=settings.MANAGEMENT_CLUSTER_DOMAIN, service_ips=service_ips,
            endpoint_hosts=endpoint_hosts, extra=t.cert_sans,
        )
        stored = secrets.secret_text(kube.get("Secret", secrets.secret_name(t, secrets.PKI), t.namespace))
        pki_data = pki.plan_pki(stored, dns_names=dns, ip_addresses=ips, validity=validity)
        if pki_data != stored:
            applied = kube.apply(secrets.build_secret(t, purpose=secrets.PKI, data=pki_data,
                                                      anchor_uid=self.anchor_uid))
            issued = sorted(k for k in pki_data if pki_data[k] != stored.get(k) and k.endswith(".crt"))
            self.event("CertificatesIssued", "Issued " + ", ".join(issued) if issued else "Keys generated",
                       about=applied)

        ca = pki.CertKey(pki_data[pki.CA_CERT], pki_data[pki.CA_KEY])
        kc_name = secrets.secret_name(t, secrets.KUBECONFIGS)
        kc_stored = secrets.secret_text(kube.get("Secret", kc_name, t.namespace))
        kubeconfigs = plan_component_kubeconfigs(kc_stored, ca=ca, cluster_name=t.resource_name, validity=validity)
        if kubeconfigs != kc_stored:
            applied = kube.apply(secrets.build_secret(t, purpose=secrets.KUBECONFIGS, data=kubeconfigs,
                                                      anchor_uid=self.anchor_uid))
            self.event("KubeconfigsIssued", "Controller-manager and scheduler kubeconfigs issued", about=applied)
        expiry = pki.not_after(pki_data[pki.APISERVER_CERT]).strftime("%Y-%m-%d")
        t.set_condition(status.CERTIFICATES_READY, True, "Issued", f"Serving certificate valid until {expiry}")
        crashpoint("after-certificates")
        return pki_data, kubeconfigs

    def ensure_deployment(self, datastore_data: dict, pki_data: dict, kubeconfigs: dict) -> dict:
        t, kube = self.tenant, self.kube
        checksums = deployment.Checksums(
            pki=pki.content_hash(pki_data), kubeconfigs=pki.content_hash(kubeconfigs),
            datastore=pki.content_hash(datastore_data),
        )
        manifest = deployment.build_deployment(
            t, anchor_uid=self.anchor_uid, datastore=datastore_slice.wiring_from(datastore_data), checksums=checksums,
        )
        before = kube.get("Deployment", t.resource_name, t.namespace)
        dep = kube.apply(manifest)
        if before is None or before["metadata"].get("generation") != dep["metadata"].get("generation"):
            self.event("DeploymentApplied", f"{t.kubernetes_version}, {t.replicas} replica(s)", about=dep)
            self.start_upgrades()
        budget = pdb.build_pdb(t, anchor_uid=self.anchor_uid)
        if budget:
            kube.apply(budget)
        else:
            kube.delete("PodDisruptionBudget", pdb.pdb_name(t), t.namespace)
        crashpoint("after-deployment")
        return dep

    def start_upgrades(self) -> None:
        for upgrade in self.tenant.upgrades.filter(state=Upgrade.State.PENDING,
                                                   to_version=self.tenant.kubernetes_version):
            mark_upgrade(upgrade, Upgrade.State.RUNNING, f"Rolling out {upgrade.to_version}")

    def observe_deployment(self, dep: dict) -> bool:
        """Sets DeploymentAvailable; returns whether the rollout is complete."""
        want = self.tenant.replicas
        st = dep.get("status") or {}
        current = st.get("observedGeneration", 0) >= dep["metadata"].get("generation", 0)
        updated, available, total = (st.get(k, 0) for k in ("updatedReplicas", "availableReplicas", "replicas"))
        rolled_out = current and updated == want and available >= want and total == want
        message = f"{available}/{want} available, {updated} updated"
        if available >= 1:
            reason = "RolledOut" if rolled_out else ("RollingOut" if updated < want or total != want else "Degraded")
            self.tenant.set_condition(status.DEPLOYMENT_AVAILABLE, True, reason, message)
        else:
            self.tenant.set_condition(status.DEPLOYMENT_AVAILABLE, False, "Starting", message)
        return rolled_out

    def ensure_tenant_api(self, endpoint: str | None, pki_data: dict, rolled_out: bool) -> bool:
        """Ready: the tenant API answers /readyz through its Service and the bootstrap is applied."""
        t = self.tenant
        if not status.is_true(t.conditions, status.DEPLOYMENT_AVAILABLE) or not endpoint:
            pending = next(c for c in t.conditions if c["type"] != status.READY and c["status"] != "True")
            t.set_condition(status.READY, False, "Waiting", f"{pending['type']}: {pending['message']}")
            return False
        ca_pem = pki_data[pki.CA_CERT]
        try:
            readyz = probe_readyz(endpoint, ca_pem=ca_pem)
            if readyz.status_code != 200:
                t.set_condition(status.READY, False, "APINotReady", f"/readyz answered {readyz.status_code}")
                return False
            with tenant_kube(server=endpoint, pki_data=pki_data) as tenant_api:
                bootstrap.bootstrap_tenant(t, tenant_api, server=endpoint, ca_pem=ca_pem)
            if rolled_out:
                t.observed_version = probe(endpoint, "/version", ca_pem=ca_pem).json()["gitVersion"]
                self.finish_upgrades()
        except (requests.RequestException, OSError, urllib3.exceptions.HTTPError) as exc:
            t.set_condition(status.READY, False, "Unreachable", f"{endpoint}: {exc.__class__.__name__}")
            return False
        except ApiException as exc:
            t.set_condition(status.READY, False, "BootstrapFailed", f"{exc.status} {exc.reason}")
            return False
        was_ready = status.is_true(self.before["conditions"], status.READY)
        t.set_condition(status.READY, True, "Serving", f"{endpoint} answers /readyz")
        if not was_ready:
            self.event("Ready", f"Tenant API {endpoint} is serving")
        return True

    def finish_upgrades(self) -> None:
        t = self.tenant
        for upgrade in t.upgrades.filter(state__in=[Upgrade.State.PENDING, Upgrade.State.RUNNING],
                                         to_version=t.observed_version):
            mark_upgrade(upgrade, Upgrade.State.SUCCEEDED, f"All {t.replicas} replica(s) run {t.observed_version}")

    # --- outcome --------------------------------------------------------------------------------

    def waiting(self, message: str) -> None:
        self.tenant.set_condition(status.READY, False, "Waiting", message)

    def failed(self, message: str) -> None:
        self.is_failed = True
        self.tenant.set_condition(status.READY, False, "Failed", message)
        self.event("ReconcileFailed", message, "Warning")

    def errored(self, exc: Exception) -> None:
        message = f"{exc.__class__.__name__}: {exc}"[:500]
        self.tenant.set_condition(status.READY, False, "ReconcileError", message)
        log.warning("reconcile of %s failed: %s", self.tenant, message)

    def save(self) -> str:
        """Write status fields only (never spec), unless the row is gone or being deleted."""
        t = self.tenant
        upgrading = t.upgrades.filter(state__in=[Upgrade.State.PENDING, Upgrade.State.RUNNING]).exists()
        ever_ready = bool(self.before["observed_version"]) or self.before["phase"] in (Phase.READY, Phase.NOT_READY)
        t.phase = status.derive_phase(t.conditions, upgrading=upgrading, ever_ready=ever_ready, failed=self.is_failed)
        after = {f: getattr(t, f) for f in STATUS_FIELDS}
        if after == self.before:
            return t.phase
        return _write_status(t.pk, after) or t.phase


@retry_when_locked
@transaction.atomic
def _write_status(pk: int, fields: dict) -> str | None:
    """One short transaction: the status fields onto the row, unless it is gone or being deleted.

    Returns the row's phase when it was not written (None: written, or the row is gone)."""
    row = TenantControlPlane.objects.select_for_update().filter(pk=pk).first()
    if row is None or row.phase == Phase.DELETING:
        return row.phase if row else None
    for name, value in fields.items():
        setattr(row, name, value)
    row.save(update_fields=[*STATUS_FIELDS, "updated_at"])
    return None


def reconcile_delete(tenant: TenantControlPlane, *, kube: Kube) -> Outcome:
    """Namespace (and with it every object, by cascade) first, then the datastore slice, then the row.

    The slice goes only after the namespace is gone, so no apiserver can write keys after it.
    """
    ns = kube.get("Namespace", tenant.namespace)
    ours = ns is not None and (ns["metadata"].get("labels") or {}).get(labels.TENANT_UID_KEY) == str(tenant.uid)
    if ours:
        if not ns["metadata"].get("deletionTimestamp"):
            kube.delete("Namespace", tenant.namespace, propagation="Foreground")
        crashpoint("mid-delete")
        pods = len(kube.list("Pod", tenant.namespace))
        _set_deleting_message(tenant, f"Removing namespace {tenant.namespace} ({pods} pod(s) left)")
        return Outcome(2.0, Phase.DELETING)
    try:
        datastore_slice.release_slice(tenant)
    except DriverError as exc:
        _set_deleting_message(tenant, f"Removing the datastore slice: {exc}")
        return Outcome(10.0, Phase.DELETING)
    crashpoint("after-deprovision")
    _delete_row(tenant)
    return Outcome(None)


@retry_when_locked
@transaction.atomic
def _delete_row(tenant: TenantControlPlane) -> None:
    """The audit record and the row's deletion together, in one short transaction."""
    audit.record(None, "cluster.deleted", tenant, namespace=tenant.namespace, uid=str(tenant.uid))
    tenant.delete()


def _set_deleting_message(tenant: TenantControlPlane, message: str) -> None:
    if tenant.set_condition(status.READY, False, "Deleting", message):
        retry_when_locked(tenant.save)(update_fields=["conditions", "updated_at"])
