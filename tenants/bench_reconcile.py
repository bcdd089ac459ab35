"""Benchmark: a tenant control plane made by the product vs the same apiserver run by hand.

    .venv/bin/python -m tenants.bench_reconcile [--version v1.34.4] [--idle 30] [--runs 1]

Prints, side by side:
- time from the create request (the API call) to the tenant's /readyz answering 200 through its
  Service (NodePort on the node address), TLS verified — vs the same kube-apiserver binary started
  directly as a process on this machine against the same etcd (same slice, same certificates),
  from exec to /readyz 200;
- the memory (RSS) of one idle tenant's pod, per container, vs that bare apiserver process.

Uses a throwaway SQLite database, the local cluster and the local etcd datastore server; deletes
the tenant it made (and its etcd slice) at the end.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def setup_django(db_path: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kamaji_ui.settings")
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ["KAMAJI_UI_CONTROLLER_IN_PROCESS"] = "false"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_readyz(url: str, ca_file: str, *, timeout: float = 300) -> float:
    """Poll `url`/readyz every 50 ms; returns the monotonic time of the first 200."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/readyz", verify=ca_file, timeout=2).status_code == 200:
                return time.monotonic()
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url}/readyz did not answer 200 within {timeout}s")


def rss_of_pids(pids: list[int]) -> dict[str, int]:
    """{process name: RSS bytes} from /proc."""
    out: dict[str, int] = {}
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
        except (FileNotFoundError, ProcessLookupError):
            continue
        name = Path(argv0).name or f"pid-{pid}"  # not /proc/pid/comm: it is cut at 15 characters
        rss = next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        out[name] = out.get(name, 0) + rss
    return out


def pids_of_pod(pod_uid: str) -> list[int]:
    """Host pids of a pod's processes: their cgroup path names the pod (cgroupfs driver)."""
    needle = f"pod{pod_uid}"
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "cgroup").read_text():
                    pids.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
    return pids


class Run:
    """One measurement: create → ready through the product, then the bare process, then memory."""

    def __init__(self, *, version: str, idle: float, workdir: Path, kube, org, user):
        self.version, self.idle, self.workdir, self.kube = version, idle, workdir, kube
        self.org, self.user = org, user

    def create_through_api(self, name: str) -> tuple[int, float]:
        from rest_framework.test import APIClient

        api = APIClient()
        api.force_authenticate(self.user)
        started = time.monotonic()
        response = api.post("/api/clusters/", {"organization": self.org.slug, "name": name,
                                               "kubernetes_version": self.version}, format="json")
        if response.status_code != 201:
            raise RuntimeError(f"create failed: {response.status_code} {response.content[:300]!r}")
        return response.json()["id"], started

    def tenant_ready_through_service(self, pk: int, started: float) -> tuple[float, float]:
        """(seconds to /readyz 200 through the Service, seconds until the controller said Ready)."""
        from tenants.models import TenantControlPlane
        from tenants.services.controller import Controller
        from tenants.services.manifests import secrets

        controller = Controller(kube=self.kube, workers=1)
        settled: dict[str, float] = {}

        def reconcile():
            controller.run_until_settled(pk, timeout=300)
            settled["at"] = time.monotonic()

        thread = threading.Thread(target=reconcile, daemon=True)
        thread.start()
        while True:  # the endpoint and CA exist after the controller's first pass
            tenant = TenantControlPlane.objects.get(pk=pk)
            ca = secrets.secret_text(self.kube.get("Secret", f"{tenant.name}-pki", tenant.namespace)).get("ca.crt")
            if tenant.endpoint and ca:
                break
            time.sleep(0.05)
        ca_file = self.workdir / f"ca-{pk}.crt"
        ca_file.write_text(ca)
        ready_at = wait_readyz(tenant.endpoint, str(ca_file))
        thread.join(timeout=300)
        return ready_at - started, settled.get("at", float("nan")) - started

    def bare_process(self, pk: int) -> tuple[float, subprocess.Popen, Path]:
        """The same binary, flags and files, as a plain process on 127.0.0.1. Returns (seconds, proc)."""
        from localcluster import paths
        from tenants.models import TenantControlPlane
        from tenants.services import datastore_slice
        from tenants.services.manifests import deployment, secrets

        tenant = TenantControlPlane.objects.select_related("organization").get(pk=pk)
        root = self.workdir / f"bare-{pk}"
        for purpose, sub in ((secrets.PKI, "pki"), (secrets.DATASTORE, "datastore")):
            data = secrets.secret_text(self.kube.get("Secret", secrets.secret_name(tenant, purpose), tenant.namespace))
            (root / sub).mkdir(parents=True)
            for key, text in data.items():
                (root / sub / key).write_text(text)
                (root / sub / key).chmod(0o600)
        stored = secrets.secret_text(self.kube.get("Secret", f"{tenant.name}-datastore", tenant.namespace))
        port = free_port()
        args = [
            a.replace(deployment.PKI_DIR, str(root / "pki")).replace(deployment.DATASTORE_DIR, str(root / "datastore"))
            for a in deployment.apiserver_args(tenant, datastore_slice.wiring_from(stored))
        ]
        args = [a for a in args if not a.startswith(("--secure-port", "--advertise-address"))]
        args += [f"--secure-port={port}", "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1"]
        binary = paths.bin_dir("kubernetes", self.version) / "kube-apiserver"
        log = (root / "kube-apiserver.log").open("w")
        started = time.monotonic()
        proc = subprocess.Popen([str(binary), *args], stdout=log, stderr=subprocess.STDOUT)
        ready_at = wait_readyz(f"https://127.0.0.1:{port}", str(root / "pki" / "ca.crt"))
        return ready_at - started, proc, root

    def pod_memory(self, pk: int) -> dict[str, int]:
        from tenants.models import TenantControlPlane
        from tenants.services.manifests.labels import TENANT_KEY

        tenant = TenantControlPlane.objects.get(pk=pk)
        pods = self.kube.list("Pod", tenant.namespace, label_selector=f"{TENANT_KEY}={pk}")
        memory: dict[str, int] = {}
        for pod in pods:
            for name, rss in rss_of_pids(pids_of_pod(pod["metadata"]["uid"])).items():
                memory[name] = memory.get(name, 0) + rss
        return memory

    def delete(self, pk: int) -> float:
        from tenants.models import TenantControlPlane
        from tenants.services import lifecycle
        from tenants.services.controller import Controller

        started = time.monotonic()
        lifecycle.tenant_delete(tenant=TenantControlPlane.objects.get(pk=pk), by=self.user)
        Controller(kube=self.kube, workers=1).run_until_settled(pk, timeout=300)
        return time.monotonic() - started

    def measure(self, name: str) -> dict:
        pk, started = self.create_through_api(name)
        result = {}
        bare = None
        try:
            result["pod_readyz"], result["controller_ready"] = self.tenant_ready_through_service(pk, started)
            result["bare_readyz"], bare, _ = self.bare_process(pk)
            time.sleep(self.idle)  # both idle for the same time before memory is read
            result["pod_memory"] = self.pod_memory(pk)
            result["bare_memory"] = rss_of_pids([bare.pid]).get("kube-apiserver", 0)
        finally:
            if bare is not None:
                bare.terminate()
                bare.wait(timeout=30)
            result["delete"] = self.delete(pk)
        return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", default=None, help="tenant Kubernetes version (default: the default)")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds idle before reading memory")
    parser.add_argument("--runs", type=int, default=1)
    opts = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="kui-bench-"))
    setup_django(workdir / "db.sqlite3")
    from django.conf import settings

    from datastores.services.registration import register_local_datastores
    from localcluster import datastore_servers, testing
    from tenants.models import Membership
    from tenants.services.kube import Kube
    from tests.factories import make_org, make_user

    cluster = testing.ensure_management_cluster()
    datastore_servers.start("etcd")
    register_local_datastores()
    kube = Kube(cluster.api_client())
    version = opts.version or settings.DEFAULT_KUBERNETES_VERSION
    org = make_org()
    user = make_user(role=Membership.Role.OWNER, org=org)
    results = []
    for i in range(opts.runs):
        run = Run(version=version, idle=opts.idle, workdir=workdir, kube=kube, org=org, user=user)
        results.append(run.measure(f"bench-{os.getpid()}-{i}"))
        print(f"run {i + 1}/{opts.runs}: pod {results[-1]['pod_readyz']:.2f}s, bare {results[-1]['bare_readyz']:.2f}s",
              flush=True)
    report(results, version=version, idle=opts.idle)
    return 0


def report(results: list[dict], *, version: str, idle: float) -> None:
    def med(key):
        return statistics.median(r[key] for r in results)

    mb = 1024 * 1024
    last = results[-1]
    pod_total = sum(last["pod_memory"].values())
    print()
    print(f"kube-apiserver {version}, same etcd (local datastore server), {len(results)} run(s), median")
    print(f"{'':44}{'tenant pod via Service':>24}{'bare process':>16}")
    print(f"{'create request → /readyz 200 (s)':44}{med('pod_readyz'):>24.2f}{med('bare_readyz'):>16.2f}")
    print(f"{'  controller reports Ready (s)':44}{med('controller_ready'):>24.2f}{'':>16}")
    print(f"{'delete request → everything gone (s)':44}{med('delete'):>24.2f}{'':>16}")
    print(f"memory after {idle:.0f}s idle (RSS, MB)")
    for name, rss in sorted(last["pod_memory"].items()):
        bare = f"{last['bare_memory'] / mb:.0f}" if name == "kube-apiserver" else ""
        print(f"{'  ' + name:44}{rss / mb:>24.0f}{bare:>16}")
    print(f"{'  whole tenant pod':44}{pod_total / mb:>24.0f}{last['bare_memory'] / mb:>16.0f}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
