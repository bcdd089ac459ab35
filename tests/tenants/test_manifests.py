"""Management-cluster manifests built from the model (pure, no cluster)."""

import base64
import uuid

from tenants.models import Organization, TenantControlPlane
from tenants.services.manifests import deployment, labels, namespace, pdb, secrets, service
from tenants.services.manifests.deployment import Checksums, DatastoreWiring

ANCHOR = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
ETCD = DatastoreWiring(driver="etcd", endpoints=("https://10.212.0.1:23790",), prefix="/kui/7", tls=True)
SUMS = Checksums(pki="p1", kubeconfigs="k1", datastore="d1")


def tenant(**fields) -> TenantControlPlane:
    fields = {"kubernetes_version": "v1.34.4", **fields}
    return TenantControlPlane(
        pk=7, uid=uuid.UUID("6f1d0c2e-0000-4000-8000-000000000007"), organization=Organization(slug="acme"),
        name="demo", **fields,
    )


def build(t=None, datastore=ETCD):
    return deployment.build_deployment(t or tenant(), anchor_uid=ANCHOR, datastore=datastore, checksums=SUMS)


def args_of(dep, container):
    return next(c for c in dep["spec"]["template"]["spec"]["containers"] if c["name"] == container)["args"]


def test_every_object_carries_product_labels_and_the_anchor_owner():
    t = tenant(replicas=3)
    objects = [
        build(t), service.build_service(t, anchor_uid=ANCHOR), pdb.build_pdb(t, anchor_uid=ANCHOR),
        secrets.build_secret(t, purpose="pki", data={"a": "b"}, anchor_uid=ANCHOR),
    ]
    for obj in objects:
        meta = obj["metadata"]
        assert meta["namespace"] == "kui-7-demo"
        assert meta["labels"][labels.MANAGED_BY_KEY] == "kamaji-ui"
        assert meta["labels"][labels.TENANT_KEY] == "7"
        assert meta["labels"][labels.TENANT_UID_KEY] == str(t.uid)
        assert meta["ownerReferences"] == [{
            "apiVersion": "v1", "kind": "ConfigMap", "name": "demo-owner", "uid": ANCHOR,
            "controller": True, "blockOwnerDeletion": True,
        }]
    assert namespace.build_namespace(t)["metadata"]["labels"][labels.TENANT_KEY] == "7"
    assert namespace.build_anchor(t)["data"]["uid"] == str(t.uid)


def test_deployment_runs_three_components_of_the_chosen_version_with_rolling_update_and_replicas():
    dep = build(tenant(replicas=3, kubernetes_version="v1.35.4"))
    spec = dep["spec"]
    assert spec["replicas"] == 3
    assert spec["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    pod = spec["template"]["spec"]
    assert [c["name"] for c in pod["containers"]] == ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]
    assert {c["image"] for c in pod["containers"]} == {
        "registry.k8s.io/kube-apiserver:v1.35.4", "registry.k8s.io/kube-controller-manager:v1.35.4",
        "registry.k8s.io/kube-scheduler:v1.35.4",
    }
    assert pod["automountServiceAccountToken"] is False
    term = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    assert spec["template"]["metadata"]["annotations"]["kamaji-ui/pki-checksum"] == "p1"


def test_every_container_has_http_probes_and_requests_no_exec():
    for c in build()["spec"]["template"]["spec"]["containers"]:
        assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"]
        for probe in ("startupProbe", "livenessProbe"):
            assert c[probe]["httpGet"]["scheme"] == "HTTPS"
            assert "exec" not in c[probe]
    apiserver = build()["spec"]["template"]["spec"]["containers"][0]
    assert apiserver["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": 6443, "scheme": "HTTPS"}


def test_apiserver_flags_for_etcd_with_tls_prefix_auth_and_service_accounts():
    args = args_of(build(tenant(service_cidr="10.100.0.0/16")), "kube-apiserver")
    for flag in (
        "--etcd-servers=https://10.212.0.1:23790", "--etcd-prefix=/kui/7", "--etcd-compaction-interval=0",
        "--etcd-cafile=/etc/kubernetes/datastore/ca.crt", "--etcd-certfile=/etc/kubernetes/datastore/client.crt",
        "--etcd-keyfile=/etc/kubernetes/datastore/client.key", "--service-cluster-ip-range=10.100.0.0/16",
        "--authorization-mode=Node,RBAC", "--enable-bootstrap-token-auth=true",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        "--service-account-key-file=/etc/kubernetes/pki/sa.pub",
        "--service-account-signing-key-file=/etc/kubernetes/pki/sa.key",
        "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt",
        "--requestheader-allowed-names=front-proxy-client",
        "--proxy-client-cert-file=/etc/kubernetes/pki/front-proxy-client.crt",
        "--client-ca-file=/etc/kubernetes/pki/ca.crt",
    ):
        assert flag in args


def test_controllers_elect_leaders_and_sign_with_the_tenant_ca():
    dep = build()
    cm = args_of(dep, "kube-controller-manager")
    assert "--leader-elect=true" in cm
    assert "--controllers=*,bootstrapsigner,tokencleaner" in cm
    assert "--cluster-signing-key-file=/etc/kubernetes/pki/ca.key" in cm
    assert "--kubeconfig=/etc/kubernetes/kubeconfigs/controller-manager.conf" in cm
    sched = args_of(dep, "kube-scheduler")
    assert "--leader-elect=true" in sched
    assert "--kubeconfig=/etc/kubernetes/kubeconfigs/scheduler.conf" in sched


def test_sql_datastore_adds_kine_and_points_the_apiserver_at_it():
    wiring = DatastoreWiring(driver="postgresql", endpoints=("10.212.0.1:5432",), prefix="/", tls=False)
    dep = build(datastore=wiring)
    containers = dep["spec"]["template"]["spec"]["containers"]
    assert containers[0]["name"] == "kine"
    assert containers[0]["env"][0]["valueFrom"]["secretKeyRef"] == {"name": "demo-datastore", "key": "kine-endpoint"}
    args = args_of(dep, "kube-apiserver")
    assert "--etcd-servers=http://127.0.0.1:2379" in args
    assert not any(a.startswith("--etcd-cafile") for a in args)


def test_pdb_only_with_more_than_one_replica():
    assert pdb.build_pdb(tenant(replicas=1), anchor_uid=ANCHOR) is None
    budget = pdb.build_pdb(tenant(replicas=3), anchor_uid=ANCHOR)
    assert budget["spec"]["maxUnavailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"] == labels.selector_for(tenant())


def test_service_of_the_chosen_type_targets_the_apiserver_port():
    svc = service.build_service(tenant(service_type="LoadBalancer", port=443), anchor_uid=ANCHOR)
    assert svc["spec"]["type"] == "LoadBalancer"
    assert svc["spec"]["ports"] == [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": 6443}]


NODES = [
    {"status": {"conditions": [{"type": "Ready", "status": "False"}],
                "addresses": [{"type": "InternalIP", "address": "10.0.0.9"}]}},
    {"status": {"conditions": [{"type": "Ready", "status": "True"}],
                "addresses": [{"type": "Hostname", "address": "n1"}, {"type": "InternalIP", "address": "10.212.0.1"}]}},
]


def test_endpoint_read_back_for_each_service_type():
    node_port = {"spec": {"type": "NodePort", "clusterIP": "10.213.0.5", "ports": [{"port": 6443, "nodePort": 31001}]}}
    assert service.service_addresses(node_port, nodes=NODES) == ("10.212.0.1", 31001, ["10.213.0.5"])
    cluster_ip = {"spec": {"type": "ClusterIP", "clusterIPs": ["10.213.0.6"], "ports": [{"port": 6443}]}}
    assert service.service_addresses(cluster_ip, nodes=[]) == ("10.213.0.6", 6443, ["10.213.0.6"])
    pending = {"spec": {"type": "LoadBalancer", "clusterIP": "10.213.0.7", "ports": [{"port": 443}]}, "status": {}}
    assert service.service_addresses(pending, nodes=NODES)[0] is None
    assigned = {**pending, "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}}
    assert service.service_addresses(assigned, nodes=NODES)[:2] == ("192.0.2.10", 443)
    assert service.endpoint_url("10.212.0.1", 31001) == "https://10.212.0.1:31001"


def test_secret_round_trips_text_through_base64_data():
    sec = secrets.build_secret(tenant(), purpose="pki", data={"ca.crt": "PEM"}, anchor_uid=ANCHOR)
    assert sec["metadata"]["name"] == "demo-pki"
    assert base64.b64decode(sec["data"]["ca.crt"]) == b"PEM"
    assert secrets.secret_text(sec) == {"ca.crt": "PEM"}
    assert "stringData" not in sec
