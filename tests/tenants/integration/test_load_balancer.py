"""A LoadBalancer tenant on the local cluster's MetalLB: an address from the pool becomes the endpoint,
the serving certificate and fresh kubeconfigs follow it, also when the pool changes and MetalLB
moves the Service to another address."""

import contextlib
import ipaddress
import time
import uuid

import pytest
import yaml
from kubernetes import client, config

from localcluster import loadbalancer, netns, network, versions
from tenants.models import Membership, Phase, ServiceType
from tenants.services import kubeconfig_download, lifecycle, pki
from tenants.services.controller import Controller
from tenants.services.manifests import secrets
from tests.factories import make_org, make_user

pytestmark = [pytest.mark.cluster, pytest.mark.django_db]

POOL = ipaddress.IPv4Network(network.LOADBALANCER_CIDR)


def lb_address(tenant_kube, tenant) -> str | None:
    ingress = (tenant_kube.get("Service", tenant.name, tenant.namespace).get("status", {})
               .get("loadBalancer", {}).get("ingress")) or []
    return ingress[0]["ip"] if ingress else None


def kubeconfig_works(tenant, user, tmp_path, kube, where=contextlib.nullcontext) -> str:
    """Download a kubeconfig as `user`, use it (TLS verified) from `where` and return the server it names."""
    text = kubeconfig_download.issue_kubeconfig_for(user=user, tenant=tenant, kube=kube)
    path = tmp_path / f"{uuid.uuid4().hex[:6]}.kubeconfig"
    path.write_text(text)
    api = config.new_client_from_config(config_file=str(path))
    assert api.configuration.verify_ssl is True
    with where():
        assert client.VersionApi(api).get_code().git_version == tenant.kubernetes_version
    return yaml.safe_load(text)["clusters"][0]["cluster"]["server"]


def test_load_balancer_tenant_gets_a_pool_address_and_follows_a_pool_change(
    etcd_datastore, tenant_kube, management_cluster, tmp_path
):
    org = make_org()
    owner = make_user(role=Membership.Role.OWNER, org=org)
    controller = Controller(kube=tenant_kube, workers=1)
    tenant = lifecycle.tenant_create(organization=org, by=owner, name=f"lb-{uuid.uuid4().hex[:6]}",
                                     kubernetes_version=versions.TENANT_VERSIONS[-1],
                                     service_type=ServiceType.LOAD_BALANCER, port=6443)
    api = management_cluster.api_client()
    try:
        started = time.monotonic()
        controller.run_until_settled(tenant.pk, timeout=300)
        tenant.refresh_from_db()
        first = lb_address(tenant_kube, tenant)
        assert tenant.phase == Phase.READY, tenant.conditions
        assert first and ipaddress.IPv4Address(first) in POOL
        assert tenant.endpoint == f"https://{first}:6443"
        sans = pki.certificate_sans(secrets.secret_text(
            tenant_kube.get("Secret", f"{tenant.name}-pki", tenant.namespace))["apiserver.crt"])
        assert first in sans
        assert kubeconfig_works(tenant, owner, tmp_path, tenant_kube) == tenant.endpoint
        # From another host on the node's network (where workers will live): MetalLB answers ARP for it.
        worker = netns.add_host("lbtest", network.WORKER_HOST_RANGE[1])
        try:
            assert kubeconfig_works(tenant, owner, tmp_path, tenant_kube, where=worker.inside) == tenant.endpoint
        finally:
            netns.remove_host("lbtest")
        print(f"\nLoadBalancer tenant Ready at {first} in {time.monotonic() - started:.1f}s")

        # Take the address out of the pool: MetalLB assigns another; the controller follows it.
        others = [str(ip) for ip in POOL.hosts() if str(ip) != first]
        loadbalancer.set_pool(api, [f"{others[0]}-{others[-1]}"])
        moved = time.monotonic()
        deadline = moved + 60
        while (lb_address(tenant_kube, tenant) in (None, first)) and time.monotonic() < deadline:
            time.sleep(0.5)
        second = lb_address(tenant_kube, tenant)
        assert second and second != first and second in others
        controller.run_until_settled(tenant.pk, timeout=120)
        tenant.refresh_from_db()
        assert tenant.phase == Phase.READY and tenant.endpoint == f"https://{second}:6443"
        sans = pki.certificate_sans(secrets.secret_text(
            tenant_kube.get("Secret", f"{tenant.name}-pki", tenant.namespace))["apiserver.crt"])
        assert second in sans
        assert kubeconfig_works(tenant, owner, tmp_path, tenant_kube) == f"https://{second}:6443"
        print(f"address moved {first} -> {second}; endpoint, certificate and kubeconfig followed in "
              f"{time.monotonic() - moved:.1f}s")
    finally:
        loadbalancer.set_pool(api, loadbalancer.default_pool_addresses())
        lifecycle.tenant_delete(tenant=tenant, by=owner)
        controller.run_until_settled(tenant.pk, timeout=300)
