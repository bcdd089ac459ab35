"""The Deployment running kube-apiserver, kube-controller-manager, kube-scheduler (and kine).

The images are single static binaries with no shell, so every probe is httpGet.
"""

from dataclasses import dataclass

from django.conf import settings

from tenants.models import TenantControlPlane
from tenants.services.manifests import secrets
from tenants.services.manifests.labels import COMPONENT_KEY, CONTROL_PLANE, metadata_for, selector_for
from tenants.services.manifests.service import APISERVER_PORT

PKI_DIR = "/etc/kubernetes/pki"
KUBECONFIG_DIR = "/etc/kubernetes/kubeconfigs"
DATASTORE_DIR = "/etc/kubernetes/datastore"
BINARY_DIR = "/usr/local/bin"
CONTROLLER_MANAGER_PORT = 10257
SCHEDULER_PORT = 10259
KINE_LISTEN = "127.0.0.1:2379"
SHUTDOWN_DELAY_SECONDS = 10  # kube-apiserver keeps serving this long after SIGTERM

# Requests sized from measured idle use (apiserver ~260 MB RSS); no CPU limits, control planes burst.
RESOURCES = {
    "kube-apiserver": {"requests": {"cpu": "100m", "memory": "256Mi"}},
    "kube-controller-manager": {"requests": {"cpu": "25m", "memory": "64Mi"}},
    "kube-scheduler": {"requests": {"cpu": "10m", "memory": "32Mi"}},
    "kine": {"requests": {"cpu": "25m", "memory": "64Mi"}},
}


@dataclass(frozen=True)
class DatastoreWiring:
    """How the apiserver reaches its datastore: etcd directly, or SQL/NATS through a kine sidecar."""

    driver: str
    endpoints: tuple[str, ...]
    prefix: str
    tls: bool  # client certificate and CA present in the datastore Secret

    @property
    def uses_kine(self) -> bool:
        return self.driver != "etcd"


@dataclass(frozen=True)
class Checksums:
    """Digests of the Secrets the pods mount; a change rolls the pods."""

    pki: str
    kubeconfigs: str
    datastore: str


def image_for(component: str, version: str) -> str:
    return f"{settings.IMAGE_REPOSITORY}/{component}:{version}"


def _https_probe(path: str, port: int, *, period: int, failures: int, timeout: int = 5) -> dict:
    return {
        "httpGet": {"path": path, "port": port, "scheme": "HTTPS"},
        "periodSeconds": period, "failureThreshold": failures, "timeoutSeconds": timeout,
    }


def _mount(name: str, path: str) -> dict:
    return {"name": name, "mountPath": path, "readOnly": True}


def apiserver_args(tenant: TenantControlPlane, datastore: DatastoreWiring) -> list[str]:
    pki = PKI_DIR
    args = [
        "--advertise-address=$(POD_IP)",
        f"--secure-port={APISERVER_PORT}",
        "--allow-privileged=true",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",
        "--enable-bootstrap-token-auth=true",
        f"--client-ca-file={pki}/ca.crt",
        f"--tls-cert-file={pki}/apiserver.crt",
        f"--tls-private-key-file={pki}/apiserver.key",
        f"--kubelet-client-certificate={pki}/apiserver-kubelet-client.crt",
        f"--kubelet-client-key={pki}/apiserver-kubelet-client.key",
        "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
        f"--proxy-client-cert-file={pki}/front-proxy-client.crt",
        f"--proxy-client-key-file={pki}/front-proxy-client.key",
        f"--requestheader-client-ca-file={pki}/front-proxy-ca.crt",
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-username-headers=X-Remote-User",
        f"--service-account-issuer=https://kubernetes.default.svc.{settings.CLUSTER_DOMAIN}",
        f"--service-account-key-file={pki}/sa.pub",
        f"--service-account-signing-key-file={pki}/sa.key",
        f"--service-cluster-ip-range={tenant.service_cidr}",
        "--profiling=false",
        # The tenant's datastore identity may not compact (it owns one key prefix only).
        "--etcd-compaction-interval=0",
    ]
    if datastore.prefix:  # empty: the apiserver's default (/registry), in a datastore that is the tenant's alone
        args.append(f"--etcd-prefix={datastore.prefix}")
    if datastore.uses_kine:
        args.append(f"--etcd-servers=http://{KINE_LISTEN}")
    else:
        args.append(f"--etcd-servers={','.join(datastore.endpoints)}")
        if datastore.tls:
            args += [
                f"--etcd-cafile={DATASTORE_DIR}/ca.crt",
                f"--etcd-certfile={DATASTORE_DIR}/client.crt",
                f"--etcd-keyfile={DATASTORE_DIR}/client.key",
            ]
    return args


def _kubeconfig_flags(file: str) -> list[str]:
    path = f"{KUBECONFIG_DIR}/{file}"
    return [f"--kubeconfig={path}", f"--authentication-kubeconfig={path}", f"--authorization-kubeconfig={path}"]


def controller_manager_args(tenant: TenantControlPlane) -> list[str]:
    return [
        *_kubeconfig_flags("controller-manager.conf"),
        f"--client-ca-file={PKI_DIR}/ca.crt",
        f"--requestheader-client-ca-file={PKI_DIR}/front-proxy-ca.crt",
        f"--cluster-signing-cert-file={PKI_DIR}/ca.crt",
        f"--cluster-signing-key-file={PKI_DIR}/ca.key",
        f"--root-ca-file={PKI_DIR}/ca.crt",
        f"--service-account-private-key-file={PKI_DIR}/sa.key",
        f"--service-cluster-ip-range={tenant.service_cidr}",
        f"--cluster-cidr={tenant.pod_cidr}",
        "--allocate-node-cidrs=true",
        f"--cluster-name={tenant.resource_name}",
        "--controllers=*,bootstrapsigner,tokencleaner",
        "--use-service-account-credentials=true",
        "--leader-elect=true",
        "--profiling=false",
    ]


def scheduler_args() -> list[str]:
    return [*_kubeconfig_flags("scheduler.conf"), "--leader-elect=true", "--profiling=false"]


def kine_endpoint_env(secret_name: str) -> dict:
    """The kine endpoint carries a password: it comes from the datastore Secret, not the spec."""
    return {"name": "KINE_ENDPOINT", "valueFrom": {"secretKeyRef": {"name": secret_name, "key": "kine-endpoint"}}}


def _component(name: str, version: str, *, args: list[str], mounts: list[dict], **extra) -> dict:
    """A Kubernetes control-plane container: the component's image at `version`, its binary and resources;
    `extra` (env, ports, probes) goes between the arguments and the resources."""
    return {
        "name": name,
        "image": image_for(name, version),
        "imagePullPolicy": "IfNotPresent",
        "command": [f"{BINARY_DIR}/{name}"],
        "args": args,
        **extra,
        "resources": RESOURCES[name],
        "volumeMounts": mounts,
    }


def _healthz_probes(port: int) -> dict:
    return {
        "startupProbe": _https_probe("/healthz", port, period=2, failures=60),
        "livenessProbe": _https_probe("/healthz", port, period=10, failures=6),
    }


def build_containers(tenant: TenantControlPlane, datastore: DatastoreWiring) -> list[dict]:
    version = tenant.kubernetes_version
    pki, kubeconfigs, store = _mount("pki", PKI_DIR), _mount("kubeconfigs", KUBECONFIG_DIR), _mount(
        "datastore", DATASTORE_DIR
    )
    apiserver = _component(
        "kube-apiserver", version, args=apiserver_args(tenant, datastore), mounts=[pki, store],
        env=[{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
        ports=[{"name": "https", "containerPort": APISERVER_PORT, "protocol": "TCP"}],
        startupProbe=_https_probe("/livez", APISERVER_PORT, period=1, failures=120),
        readinessProbe=_https_probe("/readyz", APISERVER_PORT, period=2, failures=3),
        livenessProbe=_https_probe("/livez", APISERVER_PORT, period=10, failures=6),
    )
    controller_manager = _component(
        "kube-controller-manager", version, args=controller_manager_args(tenant), mounts=[pki, kubeconfigs],
        **_healthz_probes(CONTROLLER_MANAGER_PORT),
    )
    scheduler = _component(
        "kube-scheduler", version, args=scheduler_args(), mounts=[kubeconfigs], **_healthz_probes(SCHEDULER_PORT),
    )
    containers = [apiserver, controller_manager, scheduler]
    if datastore.uses_kine:
        env = kine_endpoint_env(secrets.secret_name(tenant, secrets.DATASTORE))
        containers.insert(0, {
            "name": "kine",
            "image": settings.KINE_IMAGE,
            "imagePullPolicy": "IfNotPresent",
            "command": ["/bin/kine"],
            "args": ["--endpoint=$(KINE_ENDPOINT)", f"--listen-address={KINE_LISTEN}"],
            "env": [env],
            "resources": RESOURCES["kine"],
            "volumeMounts": [store],
        })
    return containers


def build_deployment(
    tenant: TenantControlPlane, *, anchor_uid: str, datastore: DatastoreWiring, checksums: Checksums
) -> dict:
    selector = selector_for(tenant)
    meta = metadata_for(tenant, tenant.resource_name, anchor_uid, **{COMPONENT_KEY: CONTROL_PLANE})
    pod_labels = {**meta["labels"], **selector}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": tenant.replicas,
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": selector},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {
                    "labels": pod_labels,
                    "annotations": {
                        "kamaji-ui/pki-checksum": checksums.pki,
                        "kamaji-ui/kubeconfigs-checksum": checksums.kubeconfigs,
                        "kamaji-ui/datastore-checksum": checksums.datastore,
                    },
                },
                "spec": {
                    # The control plane must not see the management cluster's API.
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "terminationGracePeriodSeconds": 30,
                    "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                        "weight": 100,
                        "podAffinityTerm": {
                            "labelSelector": {"matchLabels": selector},
                            "topologyKey": "kubernetes.io/hostname",
                        },
                    }]}},
                    "containers": build_containers(tenant, datastore),
                    "volumes": [
                        _secret_volume("pki", secrets.secret_name(tenant, secrets.PKI)),
                        _secret_volume("kubeconfigs", secrets.secret_name(tenant, secrets.KUBECONFIGS)),
                        _secret_volume("datastore", secrets.secret_name(tenant, secrets.DATASTORE)),
                    ],
                },
            },
        },
    }


def _secret_volume(name: str, secret: str) -> dict:
    return {"name": name, "secret": {"secretName": secret, "defaultMode": 0o400}}
