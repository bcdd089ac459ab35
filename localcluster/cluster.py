"""Start, stop and inspect the single-node management cluster.

`start()` reuses a cluster that is up and healthy; otherwise it removes whatever a previous
cluster left (it may have been killed with kill -9), starts from a clean state and waits until
the node is Ready. `stop()` takes the node down in the order that leaves nothing behind and
returns `cleanup.leftovers()` (empty on success). Both hold one machine-wide lock, so two test
sessions starting at once share one cluster.

The node lives in its own network namespace (`netns.py`): start, stop and status do their work
from inside it, whoever calls them, and the daemons they start inherit it. Only the forwarder runs
in the machine's namespace, where it publishes the apiserver and the NodePorts on 127.0.0.1.
"""

import contextlib
import fcntl
import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import requests

from . import cleanup, components, firewall, images, loadbalancer, netns, network, paths, pki, sysctls
from .daemons import Daemon

LOCK_FILE = paths.RUN.with_name(paths.RUN.name + ".lock")  # beside RUN: RUN itself is wiped
START_RECORD = paths.LOGS / "start-seconds.json"  # the steps of the last fresh start, seconds since it began


class StartError(RuntimeError):
    pass


@contextlib.contextmanager
def machine_lock() -> Iterator[None]:
    LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
    with LOCK_FILE.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class Progress:
    """Prints each step with the seconds since start, and keeps them for the benchmark."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.steps: dict[str, float] = {}

    def __call__(self, step: str) -> None:
        elapsed = time.monotonic() - self.started
        self.steps[step] = elapsed
        print(f"[{elapsed:5.1f}s] {step}", flush=True)


def wait_for(what: str, check: Callable[[], bool], *, timeout: float, daemon: Daemon | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        if daemon is not None and (why := daemon.exited_early()):
            raise StartError(why)
        time.sleep(0.2)
    log = f"; see {daemon.log_file}" if daemon else ""
    raise StartError(f"timed out after {timeout:.0f}s waiting for {what}{log}")


# -- health checks (plain HTTPS with the cluster's own CA; no client library needed) -----------

def etcd_healthy() -> bool:
    p = pki.pki_file
    client_cert = (p("etcd/healthcheck-client.crt"), p("etcd/healthcheck-client.key"))
    resp = requests.get(f"https://127.0.0.1:{pki.ETCD_CLIENT_PORT}/health", timeout=2,
                        verify=p("etcd/ca.crt"), cert=client_cert)
    return resp.ok and resp.json().get("health") == "true"


def apiserver_ready() -> bool:
    resp = requests.get(f"{pki.APISERVER_URL}/readyz", timeout=2, verify=pki.pki_file("ca.crt"))
    return resp.status_code == 200


def apiserver_ready_on_host() -> bool:
    """The same URL from the machine's namespace: through the forwarder."""
    with netns.on_host():
        return apiserver_ready()


def containerd_ready() -> bool:
    return paths.CONTAINERD_SOCKET.exists() and subprocess.run(
        components.ctr("version"), capture_output=True, timeout=5).returncode == 0


def api_client(kubeconfig: Path = paths.KUBECONFIG):
    """An official-client ApiClient for a kubeconfig (the admin one by default)."""
    from kubernetes import config

    return config.new_client_from_config(config_file=str(kubeconfig))


def node_ready(client=None) -> bool:
    from kubernetes import client as k8s

    nodes = k8s.CoreV1Api(client or api_client()).list_node(_request_timeout=5).items
    return any(c.type == "Ready" and c.status == "True" for n in nodes for c in n.status.conditions or ())


def is_running(*, patience: float = 0) -> bool:
    """Every daemon runs, the apiserver answers /readyz, the admin kubeconfig works, the node is Ready.

    With patience, a cluster whose daemons all run gets that many seconds to answer: on a busy
    machine a slow answer must not make `start` wipe a cluster that others' tests are using.
    """
    if not paths.KUBECONFIG.exists() or any(d.pid() is None for d in components.daemons()):
        return False
    deadline = time.monotonic() + patience
    while True:
        with contextlib.suppress(Exception):
            if apiserver_ready() and node_ready(api_client()):  # listing nodes proves the admin credentials
                return True
        if time.monotonic() >= deadline or any(d.pid() is None for d in components.daemons()):
            return False
        time.sleep(1)


def bind_cluster_admins() -> None:
    """`kubeadm init` makes this binding; running its phases by hand does not, and admin.conf needs it."""
    from kubernetes import client as k8s
    from kubernetes.client.rest import ApiException

    rbac = "rbac.authorization.k8s.io"
    body = k8s.V1ClusterRoleBinding(
        metadata=k8s.V1ObjectMeta(name="kubeadm:cluster-admins"),
        role_ref=k8s.V1RoleRef(api_group=rbac, kind="ClusterRole", name="cluster-admin"),
        subjects=[k8s.RbacV1Subject(api_group=rbac, kind="Group", name="kubeadm:cluster-admins")],
    )
    try:
        k8s.RbacAuthorizationV1Api(api_client(pki.kubeconfig("super-admin"))).create_cluster_role_binding(body)
    except ApiException as exc:
        if exc.status != 409:
            raise


# -- start ---------------------------------------------------------------------------------------

def start(*, quiet: bool = False) -> Path:
    """Bring the cluster up (or find it up) and return the admin kubeconfig path."""
    with machine_lock(), netns.inside():
        if is_running(patience=30):
            if not quiet:
                print("cluster already running", flush=True)
            return paths.KUBECONFIG
        start_fresh(Progress())
    return paths.KUBECONFIG


def missing_binaries() -> list[str]:
    """Binaries the node's daemons or its images need that do not exist (yet)."""
    needed = [Path(d.argv[0]) for d in components.daemons() if Path(d.argv[0]).is_absolute()] + [pki.kubeadm_bin()]
    needed += [image.binary for image in images.all_images()]
    return [str(binary) for binary in needed if not binary.exists()]


def start_fresh(progress: Progress) -> None:
    if missing := missing_binaries():
        raise StartError(f"not built: {', '.join(missing)}; run `python -m localcluster build` first")
    cleanup.remove_leftovers()
    cleanup.wipe_state()
    sysctls.record_originals()
    progress("cleaned previous state")

    network.ensure_bridge()
    firewall.install_isolation()
    components.write_config_files()
    pki.create_pki()
    progress("bridge, isolation rules, configs and PKI ready")

    containerd = components.containerd()
    containerd.start()
    wait_for("containerd", containerd_ready, timeout=30, daemon=containerd)
    progress("containerd up")

    import_errors: list[BaseException] = []
    importer = threading.Thread(target=_import_images, args=(import_errors, progress), daemon=True)
    importer.start()

    etcd = components.etcd()
    etcd.start()
    wait_for("etcd", etcd_healthy, timeout=60, daemon=etcd)
    progress("etcd healthy")

    apiserver = components.kube_apiserver()
    apiserver.start()
    wait_for("kube-apiserver /readyz", apiserver_ready, timeout=120, daemon=apiserver)
    progress("kube-apiserver ready")
    bind_cluster_admins()
    forwarder = components.forwarder()
    forwarder.start()
    wait_for("the forwarder to publish the apiserver on the machine's 127.0.0.1", apiserver_ready_on_host,
             timeout=30, daemon=forwarder)
    progress("forwarder publishing 127.0.0.1:6443 and the NodePorts on the machine")

    for daemon in (components.kube_controller_manager(), components.kube_scheduler()):
        daemon.start()
    progress("controller-manager and scheduler started")
    # MetalLB's CRDs take a moment to be Established: apply them while the node comes up.
    lb_errors: list[BaseException] = []
    def apply_lb_objects(client) -> None:
        loadbalancer.apply(client)
        progress("MetalLB's CRDs, pool and L2Advertisement applied")

    lb_objects = threading.Thread(target=_in_background, args=(lb_errors, apply_lb_objects, api_client()),
                                  daemon=True)
    lb_objects.start()

    importer.join()
    if import_errors:
        raise StartError(f"image import failed: {import_errors[0]}") from import_errors[0]

    kubelet = components.kubelet()
    kubelet.start()
    components.kube_proxy().start()
    wait_for("the node to be Ready", node_ready, timeout=120, daemon=kubelet)
    progress(f"node {pki.NODE_NAME} Ready")
    lb_objects.join()
    if lb_errors:
        raise StartError(f"MetalLB's objects: {lb_errors[0]}") from lb_errors[0]
    for daemon in (components.metallb_controller(), components.metallb_speaker()):
        daemon.start()
    for daemon in components.daemons():
        if why := daemon.exited_early():
            raise StartError(why)
    progress(f"MetalLB (L2, pool {loadbalancer.default_pool_addresses()[0]}) started; kubeconfig {paths.KUBECONFIG}")
    START_RECORD.write_text(json.dumps(progress.steps, indent=1) + "\n")  # for localcluster.bench


def _in_background(errors: list[BaseException], fn, *args) -> None:
    try:
        fn(*args)
    except BaseException as exc:
        errors.append(exc)


def _import_images(errors: list[BaseException], progress: Progress) -> None:
    try:
        imported = images.import_images()
        progress(f"images imported ({len(imported)} new, {len(images.all_images()) - len(imported)} present)")
    except BaseException as exc:
        errors.append(exc)


# -- stop ----------------------------------------------------------------------------------------

def delete_all_pods(*, timeout: float = 60) -> None:
    """Delete every pod through the API and wait until kubelet has torn them all down."""
    from kubernetes import client as k8s

    core = k8s.CoreV1Api(api_client())
    for pod in core.list_pod_for_all_namespaces(_request_timeout=10).items:
        with contextlib.suppress(Exception):
            core.delete_namespaced_pod(pod.metadata.name, pod.metadata.namespace, grace_period_seconds=1,
                                        _request_timeout=10)
    deadline = time.monotonic() + timeout
    while core.list_pod_for_all_namespaces(_request_timeout=10).items and time.monotonic() < deadline:
        time.sleep(0.5)


def remove_containers() -> None:
    """Remove whatever containers kubelet left in containerd (tasks first, then the containers)."""
    def ids(*args: str) -> list[str]:
        out = subprocess.run(components.ctr(*args, "-q"), capture_output=True, text=True, timeout=30)
        return out.stdout.split()

    for task in ids("tasks", "list"):
        subprocess.run(components.ctr("tasks", "delete", "--force", task), capture_output=True, timeout=30)
    for container in ids("containers", "list"):
        subprocess.run(components.ctr("containers", "delete", container), capture_output=True, timeout=30)


def stop() -> dict[str, list[str]]:
    """Stop the cluster and remove everything it put on the machine; return what is left (nothing)."""
    with machine_lock():
        progress = Progress()
        if netns.exists():
            with netns.inside():
                _stop_node(progress)
        cleanup.remove_leftovers()  # also what an older, root-namespace node left on the machine
        if paths.RUN.exists():
            cleanup.remove_tree(paths.RUN)
        sysctls.restore_originals()
        netns.delete()  # the bridge, the pods' network, every rule and namespaced sysctl go with it
        left = cleanup.leftovers()
        progress("stopped" if not left else f"stopped, but left: {left}")
        return left


def _stop_node(progress: Progress) -> None:
    by_name = {d.name: d for d in components.daemons()}
    by_name["metallb-speaker"].stop()
    by_name["metallb-controller"].stop()
    if by_name["kube-apiserver"].pid() is not None and by_name["kubelet"].pid() is not None:
        # No controller may recreate the pods we are about to delete.
        by_name["kube-scheduler"].stop()
        by_name["kube-controller-manager"].stop()
        with contextlib.suppress(Exception):
            delete_all_pods()
        progress("pods deleted")
    by_name["kube-proxy"].stop()
    by_name["kubelet"].stop()
    if Path(components.k8s_bin("kube-proxy")).exists():
        subprocess.run([components.k8s_bin("kube-proxy"), "--cleanup"], capture_output=True, timeout=60)
    if by_name["containerd"].pid() is not None:
        remove_containers()
    progress("kubelet and kube-proxy stopped, containers removed")
    for name in ("containerd", "kube-scheduler", "kube-controller-manager", "forwarder", "kube-apiserver", "etcd"):
        by_name[name].stop()
    progress("daemons stopped")


# -- status --------------------------------------------------------------------------------------

def status() -> dict:
    """Daemons and their pids, apiserver readiness, nodes, and leftovers when nothing runs."""
    if not netns.exists():
        return _status()
    with netns.inside():
        return _status()


def _status() -> dict:
    daemon_pids = {d.name: d.pid() for d in components.daemons()}
    info: dict = {"kubeconfig": str(paths.KUBECONFIG), "daemons": daemon_pids, "apiserver_ready": False, "nodes": {}}
    with contextlib.suppress(Exception):
        info["apiserver_ready"] = apiserver_ready()
    if info["apiserver_ready"]:
        from kubernetes import client as k8s

        with contextlib.suppress(Exception):
            for node in k8s.CoreV1Api(api_client()).list_node().items:
                ready = [c.status for c in node.status.conditions or () if c.type == "Ready"]
                info["nodes"][node.metadata.name] = {"ready": ready == ["True"],
                                                     "version": node.status.node_info.kubelet_version}
    if not any(daemon_pids.values()):
        info["leftovers"] = cleanup.leftovers()
    info["running"] = all(daemon_pids.values()) and info["apiserver_ready"] and any(
        n["ready"] for n in info["nodes"].values())
    return info
