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


def start_embedded(*, out=print) -> threading.Thread:
    """Start, in a background thread: local infrastructure (if used), then the controller (if in-process)."""
    progress = Progress(out)

    def run():
        try:
            if settings.USE_LOCALCLUSTER:
                start_local_infrastructure(progress)
            if settings.CONTROLLER_IN_PROCESS:
                from tenants.services.controller import start_in_background

                controller, _ = start_in_background()
                progress(f"controller {controller.identity} running (Lease in {settings.CONTROLLER_LEASE_NAMESPACE})")
        except Exception as exc:
            log.exception("embedded start failed")
            progress(f"FAILED: {exc.__class__.__name__}: {exc}")

    thread = threading.Thread(target=run, name="kui-embedded", daemon=True)
    thread.start()
    return thread
