"""MetalLB in L2 mode: the local cluster's LoadBalancer, and the objects that configure it.

MetalLB's controller (assigns addresses from the pool) and speaker (answers ARP for them on
the bridge) run as plain processes of the node (components.metallb_controller/_speaker).
Before either starts, `apply()` must have put in place what they read: the namespace, MetalLB's
CRDs (copied from its module by the build), the address pool, the L2Advertisement, and a
stand-in Pod for the speaker: it looks up its own Pod by name at startup (that Pod owns the
ServiceL2Status objects it writes) and exits when there is none.

Builders are pure (dicts out); `apply()` and `set_pool()` are the only calls that talk to the
cluster, and both are idempotent (create, or replace what is there).
"""

import ipaddress
import time
from pathlib import Path

from . import build, network, pki, versions

NAMESPACE = "metallb-system"
API_GROUP = "metallb.io"
API_VERSION = "v1beta1"
POOL_NAME = "kui-pool"
L2_ADVERTISEMENT_NAME = "kui-l2"
SERVICE_ACCOUNT = "metallb"
SPEAKER_POD = f"metallb-speaker-{pki.NODE_NAME}"
# No scheduler has this name: the stand-in Pods stay Pending and unscheduled, so nothing runs them.
STAND_IN_SCHEDULER = "kamaji-ui-stand-in"
CRD_TIMEOUT = 30.0


def default_pool_addresses() -> list[str]:
    first, last = network.LOADBALANCER_RANGE
    return [f"{first}-{last}"]


def address_range(entry: str) -> tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]:
    """First and last address of one IPAddressPool entry: a CIDR or "first-last"."""
    if "-" in entry:
        first, last = (ipaddress.IPv4Address(part.strip()) for part in entry.split("-", 1))
    else:
        net = ipaddress.IPv4Network(entry, strict=True)
        first, last = net[0], net[-1]
    if first > last:
        raise ValueError(f"empty address range {entry!r}")
    return first, last


def check_pool_addresses(addresses: list[str]) -> None:
    """Refuse addresses outside network.LOADBALANCER_CIDR: any other would collide with pods or hosts."""
    reserved = ipaddress.IPv4Network(network.LOADBALANCER_CIDR)
    if not addresses:
        raise ValueError("an address pool needs at least one address")
    for entry in addresses:
        first, last = address_range(entry)
        if first not in reserved or last not in reserved:
            raise ValueError(f"{entry!r} is outside the LoadBalancer range {network.LOADBALANCER_CIDR}")


def build_namespace() -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}


def build_service_account() -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": SERVICE_ACCOUNT, "namespace": NAMESPACE}}


def build_ip_address_pool(addresses: list[str] | None = None) -> dict:
    """The pool MetalLB's controller assigns LoadBalancer addresses from (the reserved range by default)."""
    addresses = list(addresses) if addresses is not None else default_pool_addresses()
    check_pool_addresses(addresses)
    return {
        "apiVersion": f"{API_GROUP}/{API_VERSION}", "kind": "IPAddressPool",
        "metadata": {"name": POOL_NAME, "namespace": NAMESPACE},
        "spec": {"addresses": addresses, "autoAssign": True},
    }


def build_l2_advertisement() -> dict:
    """Announce the pool's addresses by ARP on the node's bridge only."""
    return {
        "apiVersion": f"{API_GROUP}/{API_VERSION}", "kind": "L2Advertisement",
        "metadata": {"name": L2_ADVERTISEMENT_NAME, "namespace": NAMESPACE},
        "spec": {"ipAddressPools": [POOL_NAME], "interfaces": [network.BRIDGE]},
    }


def build_stand_in_pod(name: str, component: str) -> dict:
    """The Pod a MetalLB daemon takes for its own: it exists, nothing runs it (see module doc)."""
    from .components import PAUSE_IMAGE  # components imports this module

    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": NAMESPACE,
            "labels": {"app.kubernetes.io/name": "metallb", "app.kubernetes.io/component": component},
            "annotations": {"kamaji-ui.io/stand-in": f"MetalLB's {component} runs as a plain process of the node"},
        },
        "spec": {
            "schedulerName": STAND_IN_SCHEDULER,
            "serviceAccountName": SERVICE_ACCOUNT,
            "automountServiceAccountToken": False,
            "terminationGracePeriodSeconds": 0,
            "containers": [{"name": component, "image": PAUSE_IMAGE}],
        },
    }


def stand_in_pods() -> list[dict]:
    return [build_stand_in_pod(SPEAKER_POD, "speaker")]  # the controller (v0.15) never looks for its Pod


def crd_files(version: str = versions.METALLB) -> list[Path]:
    """MetalLB's CRD files as the build left them (empty when MetalLB was not built)."""
    return sorted(build.metallb_crd_dir(version).glob("*.yaml"))


def load_crds(version: str = versions.METALLB) -> list[dict]:
    import yaml

    files = crd_files(version)
    if not files:
        where = build.metallb_crd_dir(version)
        raise FileNotFoundError(f"no MetalLB CRDs in {where}: run `python -m localcluster build`")
    return [yaml.safe_load(path.read_text()) for path in files]


def resource_version(obj) -> str:
    return obj["metadata"]["resourceVersion"] if isinstance(obj, dict) else obj.metadata.resource_version


def create_or_replace(body: dict, *, create, read, replace):
    """Create body, or replace the object of that name with it (at its current resourceVersion)."""
    from kubernetes.client.rest import ApiException

    try:
        return create(body)
    except ApiException as exc:
        if exc.status != 409:
            raise
    current = read()
    return replace({**body, "metadata": {**body["metadata"], "resourceVersion": resource_version(current)}})


def create_if_absent(create, body: dict) -> None:
    from kubernetes.client.rest import ApiException

    try:
        create(body)
    except ApiException as exc:
        if exc.status != 409:
            raise


def apply_crds(api_client, *, timeout: float = CRD_TIMEOUT) -> list[str]:
    """Create or replace every MetalLB CRD and wait until each is Established; their names."""
    from kubernetes import client as k8s

    api = k8s.ApiextensionsV1Api(api_client)
    names = []
    for crd in load_crds():
        name = crd["metadata"]["name"]
        create_or_replace(crd, create=api.create_custom_resource_definition,
                          read=lambda name=name: api.read_custom_resource_definition(name),
                          replace=lambda body, name=name: api.replace_custom_resource_definition(name, body))
        names.append(name)
    deadline = time.monotonic() + timeout
    for name in names:
        while not crd_established(api.read_custom_resource_definition(name)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"CRD {name} not Established after {timeout:.0f}s")
            time.sleep(0.2)
    return names


def crd_established(crd) -> bool:
    conditions = (crd.status.conditions if crd.status else None) or ()
    return any(c.type == "Established" and c.status == "True" for c in conditions)


def apply_custom_object(api_client, body: dict, plural: str) -> dict:
    from kubernetes import client as k8s

    api = k8s.CustomObjectsApi(api_client)
    name = body["metadata"]["name"]
    args = (API_GROUP, API_VERSION, NAMESPACE, plural)
    return create_or_replace(body, create=lambda b: api.create_namespaced_custom_object(*args, b),
                             read=lambda: api.get_namespaced_custom_object(*args, name),
                             replace=lambda b: api.replace_namespaced_custom_object(*args, name, b))


def apply(api_client, *, addresses: list[str] | None = None) -> None:
    """Everything MetalLB's daemons need before they start, idempotently: namespace, service
    account and the speaker's stand-in Pod (kept when present), CRDs (Established), pool and L2Advertisement
    (replaced)."""
    from kubernetes import client as k8s

    core = k8s.CoreV1Api(api_client)
    create_if_absent(core.create_namespace, build_namespace())
    create_if_absent(lambda body: core.create_namespaced_service_account(NAMESPACE, body), build_service_account())
    for pod in stand_in_pods():
        create_if_absent(lambda body: core.create_namespaced_pod(NAMESPACE, body), pod)
    apply_crds(api_client)
    set_pool(api_client, addresses if addresses is not None else default_pool_addresses())
    apply_custom_object(api_client, build_l2_advertisement(), "l2advertisements")


def set_pool(api_client, addresses: list[str]) -> dict:
    """Replace the pool's addresses (within network.LOADBALANCER_CIDR); MetalLB re-assigns
    Services whose address left the pool."""
    return apply_custom_object(api_client, build_ip_address_pool(addresses), "ipaddresspools")
