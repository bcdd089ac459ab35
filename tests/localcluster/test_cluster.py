"""The local management cluster is a real one: a Ready node, local images under upstream names,
and a tenant kube-apiserver of each version running in a pod behind a Service the host reaches."""

import datetime
import ipaddress
import subprocess
import time

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kubernetes import client as k8s

from localcluster import cleanup, components, firewall, images, netns, network, versions

pytestmark = pytest.mark.cluster

TENANT_PORT = 6443


def pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def issue(subject: str, key, *, signer_key, issuer: str | None = None, ips: tuple[str, ...] = ()) -> bytes:
    """A one-hour certificate; self-signed CA when issuer is None."""
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer or subject)]))
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if ips:
        names = [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(signer_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def tenant_pki(*, ips: tuple[str, ...]) -> dict[str, bytes]:
    ca_key, serving_key, sa_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    return {
        "ca.crt": issue("tenant-ca", ca_key, signer_key=ca_key),
        "tls.crt": issue("kube-apiserver", serving_key, signer_key=ca_key, issuer="tenant-ca", ips=ips),
        "tls.key": pem_key(serving_key),
        "sa.key": pem_key(sa_key),
        "sa.pub": sa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo),
    }


def tenant_apiserver_deployment(*, name: str, version: str, etcd_endpoint: str, etcd_prefix: str) -> k8s.V1Deployment:
    certs = "/etc/tenant"
    args = [
        f"--etcd-servers={etcd_endpoint}", f"--etcd-prefix={etcd_prefix}",
        f"--etcd-cafile={certs}/etcd-ca.crt", f"--etcd-certfile={certs}/etcd-client.crt",
        f"--etcd-keyfile={certs}/etcd-client.key",
        f"--secure-port={TENANT_PORT}", f"--tls-cert-file={certs}/tls.crt", f"--tls-private-key-file={certs}/tls.key",
        f"--client-ca-file={certs}/ca.crt",
        "--service-account-issuer=https://kubernetes.default.svc",
        f"--service-account-key-file={certs}/sa.pub", f"--service-account-signing-key-file={certs}/sa.key",
        "--service-cluster-ip-range=10.96.0.0/16", "--authorization-mode=RBAC",
    ]
    probe = k8s.V1Probe(http_get=k8s.V1HTTPGetAction(path="/readyz", port=TENANT_PORT, scheme="HTTPS"),
                        period_seconds=1, failure_threshold=120, timeout_seconds=2)
    container = k8s.V1Container(
        name="kube-apiserver", image=f"registry.k8s.io/kube-apiserver:{version}", image_pull_policy="IfNotPresent",
        command=["kube-apiserver"], args=args, readiness_probe=probe,
        ports=[k8s.V1ContainerPort(container_port=TENANT_PORT, name="https")],
        volume_mounts=[k8s.V1VolumeMount(name="certs", mount_path=certs, read_only=True)],
    )
    labels = {"app": name}
    template = k8s.V1PodTemplateSpec(
        metadata=k8s.V1ObjectMeta(labels=labels),
        spec=k8s.V1PodSpec(containers=[container], enable_service_links=False,
                           volumes=[k8s.V1Volume(name="certs", secret=k8s.V1SecretVolumeSource(secret_name=name))]),
    )
    return k8s.V1Deployment(
        metadata=k8s.V1ObjectMeta(name=name, labels=labels),
        spec=k8s.V1DeploymentSpec(replicas=1, selector=k8s.V1LabelSelector(match_labels=labels), template=template),
    )


def wait_until_available(apps: k8s.AppsV1Api, name: str, namespace: str, *, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        status = apps.read_namespaced_deployment_status(name, namespace).status
        if (status.available_replicas or 0) >= 1:
            return time.monotonic() - started
        time.sleep(0.5)
    raise AssertionError(f"deployment {namespace}/{name} not available after {timeout}s")


def get_once_routed(url: str, *, verify, timeout: float = 30) -> requests.Response:
    """GET, retrying while the connection is refused: kube-proxy programs a new endpoint a moment
    after the pod turns Ready (until then the Service's rule rejects)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return requests.get(url, verify=verify, timeout=5)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_node_is_ready_and_runs_the_management_version(management_cluster):
    nodes = k8s.CoreV1Api(management_cluster.api_client()).list_node().items
    assert [n.metadata.name for n in nodes] == [management_cluster.node_name]
    node = nodes[0]
    assert {c.type: c.status for c in node.status.conditions}["Ready"] == "True"
    assert node.status.node_info.kubelet_version == versions.MANAGEMENT
    assert {a.type: a.address for a in node.status.addresses}["InternalIP"] == management_cluster.node_ip


def test_every_local_image_is_in_containerd_under_its_upstream_name(management_cluster):
    present = images.present_digests()
    missing = [image.ref for image in images.all_images() if image.ref not in present]
    assert missing == []
    assert f"docker.io/rancher/kine:{versions.KINE}" in present
    assert f"registry.k8s.io/kube-apiserver:{versions.TENANT_VERSIONS[-1]}" in present


def test_kubectl_reports_one_ready_node(management_cluster):
    out = subprocess.run([components.k8s_bin("kubectl"), "--kubeconfig", str(management_cluster.kubeconfig),
                          "get", "nodes", "--no-headers"], check=True, capture_output=True, text=True).stdout
    rows = [line.split() for line in out.splitlines()]
    assert len(rows) == 1 and rows[0][1] == "Ready"


@pytest.mark.parametrize("version", versions.TENANT_VERSIONS)
def test_tenant_apiserver_image_serves_readyz_through_a_service(management_cluster, namespace, version):
    api = management_cluster.api_client()
    core, apps = k8s.CoreV1Api(api), k8s.AppsV1Api(api)
    name = "apiserver-" + version.replace(".", "-")
    service = core.create_namespaced_service(namespace, k8s.V1Service(
        metadata=k8s.V1ObjectMeta(name=name),
        spec=k8s.V1ServiceSpec(type="NodePort", selector={"app": name},
                               ports=[k8s.V1ServicePort(name="https", port=443, target_port=TENANT_PORT)]),
    ))
    cluster_ip, node_port = service.spec.cluster_ip, service.spec.ports[0].node_port
    certs = tenant_pki(ips=(cluster_ip, management_cluster.node_ip, "127.0.0.1"))
    etcd_files = {"etcd-ca.crt": management_cluster.etcd_ca, "etcd-client.crt": management_cluster.etcd_client_cert,
                  "etcd-client.key": management_cluster.etcd_client_key}
    data = {**{k: v.decode() for k, v in certs.items()}, **{k: p.read_text() for k, p in etcd_files.items()}}
    core.create_namespaced_secret(namespace, k8s.V1Secret(metadata=k8s.V1ObjectMeta(name=name), string_data=data))
    apps.create_namespaced_deployment(namespace, tenant_apiserver_deployment(
        name=name, version=version, etcd_endpoint=management_cluster.etcd_endpoint, etcd_prefix=f"/{namespace}"))

    seconds = wait_until_available(apps, name, namespace, timeout=180)
    print(f"{version}: tenant kube-apiserver pod Ready {seconds:.1f}s after its Deployment was created")

    ca_file = management_cluster.kubeconfig.parent / f"{namespace}-ca.crt"
    ca_file.write_bytes(certs["ca.crt"])
    try:
        for url in (f"https://{cluster_ip}:443", f"https://{management_cluster.node_ip}:{node_port}",
                    f"https://127.0.0.1:{node_port}"):
            ready = get_once_routed(f"{url}/readyz", verify=ca_file)
            assert (ready.status_code, ready.text) == (200, "ok"), url
            assert requests.get(f"{url}/version", verify=ca_file, timeout=5).json()["gitVersion"] == version
    finally:
        ca_file.unlink()


def test_leftovers_finds_the_running_node(management_cluster):
    """leftovers() is what `stop` must bring to empty; while the node runs it names its parts."""
    found = cleanup.leftovers()
    assert "node:kui0" in found["links"]
    assert any("kube-apiserver" in p for p in found["processes"])
    assert any("localcluster.forwarder" in p for p in found["processes"])
    assert "node:iptables/mangle/KUI-ISOLATION-FORWARD" in found["iptables"]
    assert set(found["netns"]) == {str(netns.PATH), str(netns.HOST_PATH), "/run/netns (mount)"}
    # The machine's own namespace holds nothing of the node: no bridge, no chain.
    assert not [item for item in found["links"] + found["iptables"] if item.startswith("host:")]


def test_an_image_that_was_not_imported_is_never_pulled_from_off_the_machine(management_cluster, namespace):
    core = k8s.CoreV1Api(management_cluster.api_client())
    container = k8s.V1Container(name="c", image="registry.k8s.io/kube-apiserver:v0.0.0-not-built",
                                image_pull_policy="IfNotPresent")
    core.create_namespaced_pod(namespace, k8s.V1Pod(metadata=k8s.V1ObjectMeta(name="no-pull"),
                                                    spec=k8s.V1PodSpec(containers=[container])))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        statuses = core.read_namespaced_pod("no-pull", namespace).status.container_statuses or []
        waiting = [s.state.waiting for s in statuses if s.state and s.state.waiting]
        if waiting and waiting[0].reason in ("ErrImagePull", "ImagePullBackOff") and waiting[0].message:
            assert components.NO_PULL_PROXY.removeprefix("http://") in waiting[0].message
            return
        time.sleep(0.5)
    raise AssertionError("the pull of a missing image did not fail")


def test_the_node_namespace_has_no_way_off_the_machine(management_cluster):
    """Its interfaces are loopback, the bridge and pod veths; its routes the bridge's subnet and the
    service range (onto the bridge). No default route: nothing can even be addressed off the machine."""
    routes = network.ip("-4", "route", "show", "table", "all").stdout.splitlines()
    main = [r.split()[0] for r in routes if "table" not in r]
    assert sorted(main) == sorted([network.NODE_POD_CIDR, network.SERVICE_CIDR])
    kinds = {line.split(":")[1].strip().split("@")[0]: line for line in network.ip("-o", "link").stdout.splitlines()}
    assert {name for name in kinds if not name.startswith("veth")} == {"lo", network.BRIDGE}


def test_pod_traffic_routed_off_the_bridge_is_dropped_before_it_leaves(management_cluster, namespace):
    """Were the node's namespace given a way out (here a stand-in uplink with a default route, made for
    the test and removed after: an empty bridge, which discards what it is sent), the isolation chain
    must still drop pod packets routed to it. The target is an unused address of the cluster's own
    pod range, so nothing would be addressed off the machine even if the rule were missing."""
    unused_pod_ip = "10.212.255.254"  # in POD_CIDR, outside the node's /24: only a default route takes it
    network.ip("link", "add", UPLINK, "type", "bridge")
    try:
        network.ip("link", "set", UPLINK, "up")
        network.ip("route", "add", "default", "dev", UPLINK)
        before = firewall.dropped_packets()
        # kine keeps dialling the PostgreSQL server it is given (the image's Entrypoint is /bin/kine).
        container = k8s.V1Container(
            name="dialer", image=images.kine_ref(), image_pull_policy="IfNotPresent",
            args=["--endpoint", f"postgres://kine:kine@{unused_pod_ip}:5432/kine?sslmode=disable"])
        k8s.CoreV1Api(management_cluster.api_client()).create_namespaced_pod(namespace, k8s.V1Pod(
            metadata=k8s.V1ObjectMeta(name="dialer"), spec=k8s.V1PodSpec(containers=[container])))
        deadline = time.monotonic() + 60
        while firewall.dropped_packets() == before and time.monotonic() < deadline:
            time.sleep(0.5)
        assert firewall.dropped_packets() > before
    finally:
        network.ip("link", "delete", UPLINK, check=False)


UPLINK = "kui-test-uplink"
