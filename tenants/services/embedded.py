"""The embedded default: everything a newcomer needs, started by the server process itself.

With no KUBECONFIG, the local management cluster is built (first use only) and started, its
etcd datastore server started and registered as the default datastore, then the controller runs
as threads of this process. Progress goes to the console; the web server answers meanwhile.
"""

import logging
import threading
import time

from django.conf import settings

log = logging.getLogger(__name__)
SQL_SERVERS = ("postgresql", "mysql")


def join_local_network() -> None:
    """With the local cluster, move this process into its node's network namespace (before any thread
    starts): the product then reaches the bridge, pods, NodePorts and datastore servers as a
    controller in the management cluster would. Anything it must serve on the machine (the
    dashboard's socket) is opened before this call."""
    if settings.USE_LOCALCLUSTER:
        from localcluster import netns

        netns.enter()


class Progress:
    def __init__(self, out):
        self.out, self.started = out, time.monotonic()

    def __call__(self, message: str) -> None:
        self.out(f"[embedded {time.monotonic() - self.started:6.1f}s] {message}")


def start_local_infrastructure(progress: Progress) -> None:
    """Build (a no-op when cached) and start the local cluster and the etcd datastore server."""
    from datastores.services.registration import register_local_datastores
    from localcluster import build, cluster, datastore_servers, images

    progress("building the local cluster's binaries and images (the first run compiles Kubernetes: ~15 min)")
    build.build_all()
    images.write_archives()
    progress("starting the local management cluster")
    kubeconfig = cluster.start()
    progress(f"management cluster up ({kubeconfig})")
    datastore_servers.start("etcd")
    rows = register_local_datastores()
    default = next((ds.name for ds in rows if ds.is_default), None)
    progress(f"datastores registered: {', '.join(ds.name for ds in rows)} (default: {default})")


class Embedded:
    """What `start_embedded` started; `stop()` stops the controller and hands its Lease back."""

    def __init__(self):
        self.stop_event = threading.Event()
        self.controller_thread: threading.Thread | None = None

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        if self.controller_thread is not None:
            self.controller_thread.join(timeout=timeout)


def start_local_sql_servers(progress: Progress) -> None:
    """The other registered local datastores, after the controller is up (a cluster needs only etcd)."""
    from localcluster import datastore_servers

    for name in SQL_SERVERS:
        try:
            datastore_servers.start(name)
            progress(f"datastore server {name} up")
        except Exception as exc:  # not fatal: tenants on it wait, with the reason in their condition
            progress(f"datastore server {name} did not start: {exc}")


def start_embedded(*, out=print) -> Embedded:
    """Start, in a background thread: local infrastructure (if used), then the controller (if in-process)."""
    progress = Progress(out)
    embedded = Embedded()

    def run():
        try:
            if settings.USE_LOCALCLUSTER:
                start_local_infrastructure(progress)
            if settings.CONTROLLER_IN_PROCESS and not embedded.stop_event.is_set():
                from tenants.services.controller import Controller

                controller = Controller()
                embedded.controller_thread = threading.Thread(
                    target=controller.run, args=(embedded.stop_event,), name="kui-controller", daemon=True)
                embedded.controller_thread.start()
                progress(f"controller {controller.identity} running (Lease in {settings.CONTROLLER_LEASE_NAMESPACE})")
            if settings.USE_LOCALCLUSTER:
                start_local_sql_servers(progress)
        except Exception as exc:
            log.exception("embedded start failed")
            progress(f"FAILED: {exc.__class__.__name__}: {exc}")

    threading.Thread(target=run, name="kui-embedded", daemon=True).start()
    return embedded
