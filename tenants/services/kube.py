"""The management cluster's API: client construction from settings and the few verbs we use.

Objects are plain dicts. Writes are server-side apply under one field manager ("kamaji-ui"),
so applying the same manifest any number of times, from any controller replica, converges.
"""

import json
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

FIELD_MANAGER = "kamaji-ui"
REQUEST_TIMEOUT = 30


@dataclass(frozen=True)
class Resource:
    prefix: str  # "/api/v1" or "/apis/<group>/<version>"
    plural: str
    namespaced: bool = True


# The kinds the product manages; a table instead of API discovery (no start-up round trips).
RESOURCES = {
    "Namespace": Resource("/api/v1", "namespaces", namespaced=False),
    "Node": Resource("/api/v1", "nodes", namespaced=False),
    "ConfigMap": Resource("/api/v1", "configmaps"),
    "Secret": Resource("/api/v1", "secrets"),
    "Service": Resource("/api/v1", "services"),
    "Pod": Resource("/api/v1", "pods"),
    "Event": Resource("/api/v1", "events"),
    "Deployment": Resource("/apis/apps/v1", "deployments"),
    "ReplicaSet": Resource("/apis/apps/v1", "replicasets"),
    "PodDisruptionBudget": Resource("/apis/policy/v1", "poddisruptionbudgets"),
    "Lease": Resource("/apis/coordination.k8s.io/v1", "leases"),
    "ClusterRoleBinding": Resource("/apis/rbac.authorization.k8s.io/v1", "clusterrolebindings", namespaced=False),
    "ClusterRole": Resource("/apis/rbac.authorization.k8s.io/v1", "clusterroles", namespaced=False),
    "Role": Resource("/apis/rbac.authorization.k8s.io/v1", "roles"),
    "RoleBinding": Resource("/apis/rbac.authorization.k8s.io/v1", "rolebindings"),
}


def resource_path(kind: str, *, namespace: str | None = None, name: str | None = None) -> str:
    res = RESOURCES[kind]
    path = res.prefix
    if res.namespaced and namespace:
        path += f"/namespaces/{namespace}"
    path += f"/{res.plural}"
    return f"{path}/{name}" if name else path


def is_conflict(exc: Exception) -> bool:
    return isinstance(exc, ApiException) and exc.status == 409


class Kube:
    """A thin dict-in, dict-out client over one ApiClient (management cluster or a tenant)."""

    def __init__(self, api_client: client.ApiClient):
        self.api_client = api_client

    def request(self, method: str, path: str, *, query: list | None = None, body=None,
                content_type: str = "application/json", timeout: float = REQUEST_TIMEOUT) -> dict:
        method, url, headers, body, _ = self.api_client.param_serialize(
            method, path, query_params=query or [], body=body, auth_settings=["BearerToken"],
            header_params={"Content-Type": content_type, "Accept": "application/json"},
        )
        resp = self.api_client.call_api(method, url, header_params=headers, body=body, _request_timeout=timeout)
        data = resp.read()
        if not 200 <= resp.status <= 299:
            raise ApiException(http_resp=resp)
        return json.loads(data) if data else {}

    def apply(self, manifest: dict) -> dict:
        """Server-side apply: we own exactly the fields in `manifest`; conflicts are forced."""
        meta = manifest["metadata"]
        path = resource_path(manifest["kind"], namespace=meta.get("namespace"), name=meta["name"])
        return self.request(
            "PATCH", path, body=manifest, content_type="application/apply-patch+yaml",
            query=[("fieldManager", FIELD_MANAGER), ("force", "true")],
        )

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict | None:
        try:
            return self.request("GET", resource_path(kind, namespace=namespace, name=name))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, kind: str, namespace: str | None = None, *, label_selector: str | None = None) -> list[dict]:
        query = [("labelSelector", label_selector)] if label_selector else []
        return self.request("GET", resource_path(kind, namespace=namespace), query=query).get("items", [])

    def create(self, manifest: dict) -> dict:
        return self.request(
            "POST", resource_path(manifest["kind"], namespace=manifest["metadata"].get("namespace")), body=manifest
        )

    def replace(self, manifest: dict) -> dict:
        meta = manifest["metadata"]
        return self.request("PUT", resource_path(manifest["kind"], namespace=meta.get("namespace"),
                                                 name=meta["name"]), body=manifest)

    def delete(self, kind: str, name: str, namespace: str | None = None, *, propagation: str = "Background") -> bool:
        """Delete if present. Returns False when it was already gone."""
        try:
            self.request("DELETE", resource_path(kind, namespace=namespace, name=name),
                         body={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation})
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True


def management_api_client() -> client.ApiClient:
    """An ApiClient for the management cluster: KUBECONFIG, the local cluster, or in-cluster."""
    if settings.KUBECONFIG:
        return config.new_client_from_config(config_file=settings.KUBECONFIG)
    if settings.USE_LOCALCLUSTER:
        return config.new_client_from_config(config_file=settings.LOCALCLUSTER_KUBECONFIG)
    cfg = client.Configuration()
    config.load_incluster_config(client_configuration=cfg)
    return client.ApiClient(cfg)


@cache
def management() -> Kube:
    """The process-wide client for the management cluster (urllib3 pools are thread-safe)."""
    return Kube(management_api_client())
