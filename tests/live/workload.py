"""A stand-in control-plane workload for live-status tests and the fan-out benchmark.

A Deployment + Service labelled exactly like a tenant's (managed-by, tenant pk, component) in a
namespace named like one (`kui-<pk>-<name>`), running the local cluster's etcd image: it logs,
and its readiness probe makes each new pod go Pending -> Running (not ready) -> Ready.
"""

import time

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tenants.services.manifests.labels import COMPONENT_KEY, CONTROL_PLANE, MANAGED_BY, MANAGED_BY_KEY, TENANT_KEY

ETCD_IMAGE = "registry.k8s.io/etcd:3.6.16-0"
CONTAINER = "etcd"


def labels(tenant_pk: int) -> dict[str, str]:
    return {MANAGED_BY_KEY: MANAGED_BY, TENANT_KEY: str(tenant_pk)}


def pod_labels(tenant_pk: int) -> dict[str, str]:
    return {**labels(tenant_pk), COMPONENT_KEY: CONTROL_PLANE}


def deployment(*, tenant_pk: int, namespace: str, name: str, replicas: int, ready_delay: int) -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(tenant_pk)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": pod_labels(tenant_pk)},
            "template": {
                "metadata": {"labels": pod_labels(tenant_pk)},
                "spec": {
                    "terminationGracePeriodSeconds": 1,
                    "containers": [{
                        "name": CONTAINER, "image": ETCD_IMAGE, "imagePullPolicy": "IfNotPresent",
                        "args": [
                            "--name=default", "--data-dir=/var/lib/etcd",
                            "--listen-client-urls=http://0.0.0.0:2379", "--advertise-client-urls=http://127.0.0.1:2379",
                            "--listen-peer-urls=http://127.0.0.1:2380",
                            "--initial-advertise-peer-urls=http://127.0.0.1:2380",
                            "--initial-cluster=default=http://127.0.0.1:2380",
                        ],
                        "ports": [{"containerPort": 2379, "name": "client"}],
                        "readinessProbe": {"httpGet": {"path": "/health", "port": 2379},
                                           "initialDelaySeconds": ready_delay, "periodSeconds": 1},
                        "volumeMounts": [{"name": "data", "mountPath": "/var/lib/etcd"}],
                        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}},
                    }],
                    "volumes": [{"name": "data", "emptyDir": {}}],
                },
            },
        },
    }


def service(*, tenant_pk: int, namespace: str, name: str) -> dict:
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(tenant_pk)},
        "spec": {"selector": pod_labels(tenant_pk), "ports": [{"name": "client", "port": 2379, "targetPort": 2379}]},
    }


def create(api: client.ApiClient, *, tenant_pk: int, namespace: str, name: str, replicas: int = 1,
           ready_delay: int = 3) -> None:
    """Namespace, Deployment and Service of a stand-in tenant (the namespace must not exist)."""
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    core.create_namespace({"metadata": {"name": namespace, "labels": labels(tenant_pk)}})
    deadline = time.monotonic() + 30
    while True:  # pods need the namespace's default ServiceAccount
        try:
            core.read_namespaced_service_account("default", namespace)
            break
        except ApiException as exc:
            if exc.status != 404 or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    apps.create_namespaced_deployment(namespace, deployment(tenant_pk=tenant_pk, namespace=namespace, name=name,
                                                            replicas=replicas, ready_delay=ready_delay))
    core.create_namespaced_service(namespace, service(tenant_pk=tenant_pk, namespace=namespace, name=name))


def ready_pods(api: client.ApiClient, namespace: str) -> list[str]:
    pods = client.CoreV1Api(api).list_namespaced_pod(namespace).items
    return sorted(
        p.metadata.name for p in pods
        if not p.metadata.deletion_timestamp
        and any(c.type == "Ready" and c.status == "True" for c in (p.status.conditions or []))
    )


def wait_ready(api: client.ApiClient, namespace: str, count: int, timeout: float = 120) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        names = ready_pods(api, namespace)
        if len(names) >= count:
            return names
        if time.monotonic() > deadline:
            raise TimeoutError(f"{namespace}: {len(names)}/{count} pods ready after {timeout}s")
        time.sleep(0.5)


def delete(api: client.ApiClient, namespace: str) -> None:
    try:
        client.CoreV1Api(api).delete_namespace(namespace, grace_period_seconds=0)
    except ApiException as exc:
        if exc.status != 404:
            raise
