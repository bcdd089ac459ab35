"""The node's configuration files: what MACHINE-FACTS says this machine needs, and nothing pointing at /etc."""

import ipaddress
import json
import tomllib

from localcluster import components, network, paths, pki


def test_containerd_config_can_start_pods_here():
    conf = tomllib.loads(components.containerd_config())
    assert conf["version"] == 2
    assert conf["root"] == str(paths.CONTAINERD_ROOT) and conf["grpc"]["address"] == str(paths.CONTAINERD_SOCKET)
    cri = conf["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["restrict_oom_score_adj"] is True
    assert cri["sandbox_image"] == "registry.k8s.io/pause:3.10"
    assert cri["cni"]["conf_dir"].startswith(str(paths.STATE))
    assert cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is False


def test_cni_config_uses_the_bridge_and_masquerades_nothing():
    [bridge, portmap] = json.loads(components.cni_config())["plugins"]
    assert (bridge["type"], bridge["bridge"], bridge["ipMasq"]) == ("bridge", network.BRIDGE, False)
    [[pod_range]] = bridge["ipam"]["ranges"]
    assert (pod_range["subnet"], pod_range["gateway"]) == (network.NODE_POD_CIDR, network.BRIDGE_IP)
    assert portmap["snat"] is False


def test_cni_hands_pods_only_the_low_part_of_the_node_subnet():
    [[pod_range]] = json.loads(components.cni_config())["plugins"][0]["ipam"]["ranges"]
    first, last = ipaddress.ip_address(pod_range["rangeStart"]), ipaddress.ip_address(pod_range["rangeEnd"])
    subnet = ipaddress.ip_network(network.NODE_POD_CIDR)
    assert first in subnet and last in subnet and first > ipaddress.ip_address(network.BRIDGE_IP)
    reserved = [*map(ipaddress.ip_address, network.WORKER_HOST_RANGE), *ipaddress.ip_network(network.LOADBALANCER_CIDR)]
    assert all(address > last for address in reserved)


def test_kubelet_config_matches_this_machine():
    conf = json.loads(components.kubelet_config())
    assert conf["cgroupDriver"] == "cgroupfs" and conf["failSwapOn"] is False
    assert conf["clusterDNS"] == [network.CLUSTER_DNS_IP]
    assert conf["imageGCHighThresholdPercent"] == 100  # imported images cannot be pulled again


def test_kube_proxy_answers_node_ports_on_bridge_and_loopback_only():
    conf = json.loads(components.kube_proxy_config())
    assert conf["mode"] == "iptables"
    assert conf["nodePortAddresses"] == [f"{network.BRIDGE_IP}/32", "127.0.0.1/32"]


def test_etcd_listens_on_loopback_and_the_bridge_for_pods():
    argv = components.etcd().argv
    urls = argv[argv.index("--listen-client-urls") + 1].split(",")
    assert urls == ["https://127.0.0.1:2379", f"https://{network.BRIDGE_IP}:2379"]


def test_kubeadm_config_puts_both_addresses_in_the_serving_certificates():
    init, cluster = (json.loads(doc) for doc in pki.kubeadm_config().split("\n---\n"))
    assert init["localAPIEndpoint"]["advertiseAddress"] == network.BRIDGE_IP
    assert {"127.0.0.1", network.BRIDGE_IP} <= set(cluster["apiServer"]["certSANs"])
    assert {"127.0.0.1", network.BRIDGE_IP} <= set(cluster["etcd"]["local"]["serverCertSANs"])
    assert cluster["certificatesDir"] == str(paths.PKI)
    assert cluster["networking"]["serviceSubnet"] == network.SERVICE_CIDR


def test_every_daemon_is_ordered_and_named_once():
    names = [d.name for d in components.daemons()]
    assert names[0] == "containerd" and names.index("etcd") < names.index("kube-apiserver") < names.index("kubelet")
    assert len(set(names)) == len(names)
