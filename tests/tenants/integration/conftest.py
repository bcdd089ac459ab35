"""Fixtures for tenant control planes on the real local cluster, with the real local etcd.

`tenant_kube` is the management cluster as the controller sees it; `controller` reconciles in
the test's thread (`controller.run_until_settled(pk)`); `etcd_datastore` is the local etcd
server (TLS + auth) registered as the default datastore; `unique_name` avoids clashing with
namespaces left by other runs on the shared cluster.
"""

import uuid

import pytest

from datastores.services.registration import register_local_datastores
from localcluster import datastore_servers
from tenants.services.controller import Controller
from tenants.services.kube import Kube


@pytest.fixture(scope="session")
def local_etcd_server():
    was_running = datastore_servers.pid_of("etcd") is not None
    datastore_servers.start("etcd")
    yield "etcd"
    if not was_running:
        datastore_servers.stop("etcd")


@pytest.fixture(scope="session")
def tenant_kube(management_cluster) -> Kube:
    return Kube(management_cluster.api_client())


@pytest.fixture
def etcd_datastore(db, local_etcd_server):
    rows = {ds.driver: ds for ds in register_local_datastores()}
    etcd = rows["etcd"]
    etcd.is_default = True
    etcd.save(update_fields=["is_default"])
    return etcd


@pytest.fixture
def controller(tenant_kube) -> Controller:
    return Controller(kube=tenant_kube, workers=1)


@pytest.fixture
def unique_name() -> str:
    return f"it-{uuid.uuid4().hex[:8]}"


def etcd_users(datastore) -> list[str]:
    """The users the datastore's etcd knows (to prove none is left behind)."""
    from datastores.drivers import driver_for

    with driver_for(datastore).gateway() as etcd:
        return etcd.call("auth/user/list", {}).get("users", [])


def etcd_keys_under(datastore, prefix: str) -> int:
    from datastores.drivers import driver_for

    with driver_for(datastore).gateway() as etcd:
        return etcd.count_prefix(prefix)


def objects_of(kube: Kube, tenant_uid: str) -> dict[str, list[str]]:
    """Every object in the management cluster carrying the tenant's uid label, by kind."""
    from tenants.services.manifests.labels import MANAGED_SELECTOR, TENANT_UID_KEY

    found = {}
    for kind in ("Namespace", "ConfigMap", "Secret", "Service", "Deployment", "ReplicaSet", "Pod",
                 "PodDisruptionBudget"):
        items = kube.list(kind, label_selector=f"{MANAGED_SELECTOR},{TENANT_UID_KEY}={tenant_uid}")
        if items:
            found[kind] = sorted(i["metadata"]["name"] for i in items)
    return found
