"""The Service in front of the tenant's apiservers, and the endpoint read back from it."""

from tenants.models import ServiceType, TenantControlPlane
from tenants.services.manifests.labels import metadata_for, selector_for

APISERVER_PORT = 6443


def service_name(tenant: TenantControlPlane) -> str:
    return tenant.resource_name


def build_service(tenant: TenantControlPlane, *, anchor_uid: str) -> dict:
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": metadata_for(tenant, service_name(tenant), anchor_uid),
        "spec": {
            "type": tenant.service_type,
            "selector": selector_for(tenant),
            "ports": [{"name": "https", "protocol": "TCP", "port": tenant.port, "targetPort": APISERVER_PORT}],
        },
    }


def node_internal_ip(nodes: list[dict]) -> str | None:
    """The first Ready node's InternalIP (NodePort traffic enters on any node)."""
    def ready(node):
        return any(c["type"] == "Ready" and c["status"] == "True" for c in node.get("status", {}).get("conditions", []))

    for node in sorted(nodes, key=lambda n: not ready(n)):
        for address in node.get("status", {}).get("addresses", []):
            if address["type"] == "InternalIP":
                return address["address"]
    return None


def node_internal_ips(nodes: list[dict]) -> list[str]:
    return [a["address"] for n in nodes for a in n.get("status", {}).get("addresses", []) if a["type"] == "InternalIP"]


def service_addresses(service: dict, *, nodes: list[dict],
                      node_port_host: str = "") -> tuple[str | None, int | None, list[str]]:
    """(endpoint host, endpoint port, cluster IPs) of a Service read back from the API.

    A NodePort's host is node_port_host when set (where users reach the nodes' ports, e.g. the local
    cluster's forwarder on 127.0.0.1), else the first Ready node's InternalIP. The host is None
    until there is one (no node yet, or a LoadBalancer still pending).
    """
    spec, status = service.get("spec", {}), service.get("status", {})
    port = spec["ports"][0]
    cluster_ips = [ip for ip in spec.get("clusterIPs") or [spec.get("clusterIP")] if ip and ip != "None"]
    kind = spec.get("type")
    if kind == ServiceType.NODE_PORT:
        return node_port_host or node_internal_ip(nodes), port.get("nodePort"), cluster_ips
    if kind == ServiceType.LOAD_BALANCER:
        ingress = (status.get("loadBalancer") or {}).get("ingress") or []
        host = (ingress[0].get("ip") or ingress[0].get("hostname")) if ingress else None
        return host, port["port"], cluster_ips
    return (cluster_ips[0] if cluster_ips else None), port["port"], cluster_ips


def endpoint_url(host: str, port: int) -> str:
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"
