"""Two controller processes: one leads through the Lease and does the work; kill it and the
other takes over and carries on (here: finishes a deletion requested after the kill).

Both run `manage.py controller` against one SQLite file, with the Lease in a throwaway
namespace so that no other controller on the shared cluster competes.
"""

import os
import signal
import time
import uuid

import pytest

from localcluster import versions
from tenants.services.leader import LEASE_NAME, LEASE_SECONDS
from tests.tenants.integration.controller_process import ManagePy
from tests.waiting import wait_for

pytestmark = [pytest.mark.cluster]


def holder_pid(kube, namespace) -> int | None:
    lease = kube.get("Lease", LEASE_NAME, namespace)
    holder = (lease or {}).get("spec", {}).get("holderIdentity") or ""
    parts = holder.split("-")
    return int(parts[-2]) if len(parts) >= 3 and parts[-2].isdigit() else None


def test_one_controller_leads_and_a_standby_takes_over_when_it_dies(tmp_path, tenant_kube, namespace,
                                                                   local_etcd_server):
    manage = ManagePy(tmp_path, lease_namespace=namespace)
    manage.migrate()
    procs = {}
    for n in (1, 2):
        proc = manage.popen("controller", log=tmp_path / f"controller-{n}.log")
        procs[proc.pid] = proc
    try:
        leader = wait_for("a leader", lambda: holder_pid(tenant_kube, namespace), timeout=30)
        assert leader in procs

        # Work reaches a controller in its own process through the database.
        name = f"lead-{uuid.uuid4().hex[:6]}"
        pk, _, tenant_namespace = manage.create_tenant(name=name, version=versions.TENANT_VERSIONS[-1])
        wait_for("Ready", lambda: (manage.row(pk) or {}).get("phase") == "Ready", timeout=180)
        assert manage.row(pk)["observed_version"] == versions.TENANT_VERSIONS[-1]

        os.kill(leader, signal.SIGKILL)
        procs.pop(leader).wait()
        started = time.monotonic()
        survivor = next(iter(procs))
        wait_for("the standby to lead", lambda: holder_pid(tenant_kube, namespace) == survivor,
                 timeout=LEASE_SECONDS + 15)
        print(f"\ntakeover after {time.monotonic() - started:.1f}s")

        manage.delete_tenant(pk)
        wait_for("the row to go", lambda: manage.row(pk) is None, timeout=180)
        assert tenant_kube.get("Namespace", tenant_namespace) is None
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            assert proc.wait(timeout=30) == 0
    # A clean stop hands the Lease back.
    assert holder_pid(tenant_kube, namespace) is None
