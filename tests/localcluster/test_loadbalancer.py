"""MetalLB's objects and command lines: the pool stays off the pods' and hosts' addresses, the
speaker announces on the bridge only, and the daemons run without webhook, memberlist or FRR."""

import ipaddress
import json

import pytest
import yaml

from localcluster import build, components, loadbalancer, network, paths, pki, versions

SUBNET = ipaddress.ip_network(network.NODE_POD_CIDR)


def pool_addresses(pool: dict) -> list[ipaddress.IPv4Address]:
    addresses = []
    for entry in pool["spec"]["addresses"]:
        first, last = loadbalancer.address_range(entry)
        addresses += [ipaddress.ip_address(n) for n in range(int(first), int(last) + 1)]
    return addresses


def test_pool_lies_in_the_node_subnet_above_pods_and_worker_hosts():
    pool = loadbalancer.build_ip_address_pool()
    assert (pool["apiVersion"], pool["kind"]) == ("metallb.io/v1beta1", "IPAddressPool")
    assert pool["metadata"]["namespace"] == loadbalancer.NAMESPACE
    [[pod_range]] = json.loads(components.cni_config())["plugins"][0]["ipam"]["ranges"]
    pods_last = ipaddress.ip_address(pod_range["rangeEnd"])
    workers_last = ipaddress.ip_address(network.WORKER_HOST_RANGE[1])
    addresses = pool_addresses(pool)
    assert addresses and all(a in SUBNET and a > pods_last and a > workers_last for a in addresses)
    assert all(a in ipaddress.ip_network(network.LOADBALANCER_CIDR) for a in addresses)


def test_pool_never_hands_out_the_bridge_subnets_broadcast_address():
    assert SUBNET.broadcast_address not in pool_addresses(loadbalancer.build_ip_address_pool())


def test_pool_can_be_narrowed_within_the_reserved_range():
    pool = loadbalancer.build_ip_address_pool(["10.212.0.250/32"])
    assert pool["spec"]["addresses"] == ["10.212.0.250/32"]
    assert pool["metadata"]["name"] == loadbalancer.POOL_NAME  # the same object: set_pool replaces it


@pytest.mark.parametrize("addresses", [["10.212.0.10-10.212.0.20"], ["10.212.0.230-10.212.0.245"],
                                       ["10.212.0.0/24"], ["10.99.0.1/32"], []])
def test_pool_refuses_addresses_pods_or_hosts_could_get(addresses):
    with pytest.raises(ValueError):
        loadbalancer.build_ip_address_pool(addresses)


def test_l2_advertisement_announces_the_pool_on_the_bridge_only():
    adv = loadbalancer.build_l2_advertisement()
    assert (adv["apiVersion"], adv["kind"]) == ("metallb.io/v1beta1", "L2Advertisement")
    assert adv["metadata"]["namespace"] == loadbalancer.NAMESPACE
    assert adv["spec"] == {"ipAddressPools": [loadbalancer.POOL_NAME], "interfaces": [network.BRIDGE]}


def test_the_speakers_stand_in_pod_carries_its_pod_name_and_is_never_scheduled():
    pods = loadbalancer.stand_in_pods()
    assert [p["metadata"]["name"] for p in pods] == [loadbalancer.SPEAKER_POD]
    for pod in pods:
        assert pod["metadata"]["namespace"] == loadbalancer.NAMESPACE
        assert pod["spec"]["schedulerName"] == loadbalancer.STAND_IN_SCHEDULER
        assert "nodeName" not in pod["spec"]


def flag(argv: list[str], name: str) -> str:
    """The value of --name, given as `--name value` or `--name=value`."""
    for i, arg in enumerate(argv):
        if arg == name:
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    raise AssertionError(f"{name} not in {argv}")


@pytest.mark.parametrize("daemon", [components.metallb_controller(), components.metallb_speaker()])
def test_metallb_daemons_use_the_built_binary_the_namespace_and_native_bgp(daemon):
    argv = daemon.argv
    assert argv[0].startswith(str(paths.bin_dir("metallb", versions.METALLB)) + "/")
    assert flag(argv, "--namespace") == loadbalancer.NAMESPACE
    assert flag(argv, "--kubeconfig") == str(pki.kubeconfig("admin"))
    assert daemon.env.get("METALLB_BGP_TYPE") == "native"  # no FRR


def test_metallb_controller_runs_without_webhook():
    argv = components.metallb_controller().argv
    assert flag(argv, "--webhook-mode") == "disabled"
    assert flag(argv, "--disable-cert-rotation") == "true"


def test_metallb_speaker_is_l2_on_this_node_without_memberlist():
    argv = components.metallb_speaker().argv
    assert flag(argv, "--node-name") == pki.NODE_NAME
    assert flag(argv, "--pod-name") == loadbalancer.SPEAKER_POD
    assert "--ignore-exclude-lb" in argv
    assert not any(a.startswith(("--ml-bindaddr", "--ml-labels")) for a in argv)


def test_metrics_ports_clash_with_nothing_and_the_speaker_keeps_to_loopback():
    controller, speaker = components.metallb_controller().argv, components.metallb_speaker().argv
    ports = {int(flag(controller, "--port")), int(flag(speaker, "--port"))}
    assert len(ports) == 2 and not ports & {10248, 10249, 10250, 10256, 10257, 10259, 6443, 2379, 2380, 2381}
    assert flag(speaker, "--host") == "127.0.0.1"


def test_metallb_runs_after_the_node_and_stops_with_it():
    names = [d.name for d in components.daemons()]
    assert names[-2:] == ["metallb-controller", "metallb-speaker"]  # started once the node is Ready


@pytest.mark.cluster
def test_apply_again_replaces_the_running_clusters_objects_in_place(management_cluster):
    """start applied everything once; a second apply (replace at the current resourceVersion) changes
    nothing MetalLB relies on and makes no duplicate."""
    from kubernetes import client as k8s

    api = management_cluster.api_client()
    custom = k8s.CustomObjectsApi(api)
    args = (loadbalancer.API_GROUP, loadbalancer.API_VERSION, loadbalancer.NAMESPACE)
    before = custom.get_namespaced_custom_object(*args, "ipaddresspools", loadbalancer.POOL_NAME)
    loadbalancer.apply(api)
    pools = custom.list_namespaced_custom_object(*args, "ipaddresspools")["items"]
    assert [p["metadata"]["name"] for p in pools] == [loadbalancer.POOL_NAME]
    assert pools[0]["metadata"]["uid"] == before["metadata"]["uid"]
    assert pools[0]["spec"]["addresses"] == loadbalancer.default_pool_addresses()
    ads = custom.list_namespaced_custom_object(*args, "l2advertisements")["items"]
    assert [a["spec"]["interfaces"] for a in ads] == [[network.BRIDGE]]
    kinds = {c.spec.names.kind for c in k8s.ApiextensionsV1Api(api).list_custom_resource_definition().items
             if c.spec.group == loadbalancer.API_GROUP}
    assert kinds >= WATCHED_KINDS


# What the controller and speaker watch (internal/k8s/k8s.go's cache, the status reconcilers).
WATCHED_KINDS = {"IPAddressPool", "L2Advertisement", "BGPPeer", "BGPAdvertisement", "BFDProfile", "Community",
                 "ServiceL2Status", "ServiceBGPStatus"}


@pytest.mark.skipif(not (paths.bin_dir("metallb", versions.METALLB) / ".stamp").exists(),
                    reason="MetalLB not built (python -m localcluster build)")
def test_build_output_holds_both_binaries_and_every_crd_metallb_watches():
    out = paths.bin_dir("metallb", versions.METALLB)
    assert (out / "controller").is_file() and (out / "speaker").is_file()
    crds = [yaml.safe_load(path.read_text()) for path in loadbalancer.crd_files()]
    assert all(c["kind"] == "CustomResourceDefinition" and c["spec"]["group"] == "metallb.io" for c in crds)
    assert {c["spec"]["names"]["kind"] for c in crds} >= WATCHED_KINDS
    assert build.metallb_crd_dir() == out / "crds"
