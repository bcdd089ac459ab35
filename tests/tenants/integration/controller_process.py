"""Run manage.py in subprocesses against a throwaway SQLite file, as a separate controller would.

The crash tests need a controller that really dies (os._exit at a named point) and a fresh one
that picks up from what is in the cluster and the database, so they cannot share the test
run's in-memory database.
"""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from django.conf import settings

SETUP_TENANT = """
from datastores.services.registration import register_local_datastores
from tenants.services import lifecycle
from tests.factories import make_org, make_user
etcd = next(d for d in register_local_datastores() if d.driver == "etcd")
etcd.is_default = True
etcd.save()
org = make_org()
owner = make_user(role="owner", org=org, username="owner")
t = lifecycle.tenant_create(organization=org, by=owner, name={name!r}, kubernetes_version={version!r},
                            replicas={replicas!r})
print(t.pk, t.uid, t.namespace)
"""

DELETE_TENANT = """
from django.contrib.auth.models import User
from tenants.models import TenantControlPlane
from tenants.services import lifecycle
lifecycle.tenant_delete(tenant=TenantControlPlane.objects.get(pk={pk}), by=User.objects.get(username="owner"))
"""


class ManagePy:
    def __init__(self, tmp_path: Path, *, lease_namespace: str | None = None):
        self.db = tmp_path / "db.sqlite3"
        self.env = {**os.environ, "DATABASE_URL": f"sqlite:///{self.db}", "KAMAJI_UI_CONTROLLER_IN_PROCESS": "false",
                    "PYTHONUNBUFFERED": "1"}
        if lease_namespace:
            self.env["KAMAJI_UI_LEASE_NAMESPACE"] = lease_namespace
        self.env.pop("KAMAJI_UI_CRASH_AT", None)

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args]

    def run(self, *args: str, crash_at: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        env = {**self.env, **({"KAMAJI_UI_CRASH_AT": crash_at} if crash_at else {})}
        return subprocess.run(self.argv(*args), env=env, capture_output=True, text=True, timeout=timeout,
                              cwd=settings.BASE_DIR)

    def popen(self, *args: str, log: Path) -> subprocess.Popen:
        return subprocess.Popen(self.argv(*args), env=self.env, cwd=settings.BASE_DIR,
                                stdout=log.open("w"), stderr=subprocess.STDOUT)

    def shell(self, code: str) -> str:
        done = self.run("shell", "-c", code)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def migrate(self) -> None:
        done = self.run("migrate", "--noinput")
        assert done.returncode == 0, done.stderr

    def create_tenant(self, *, name: str, version: str, replicas: int = 1) -> tuple[int, str, str]:
        pk, uid, namespace = self.shell(SETUP_TENANT.format(name=name, version=version, replicas=replicas)).split()[-3:]
        return int(pk), uid, namespace

    def delete_tenant(self, pk: int) -> None:
        self.shell(DELETE_TENANT.format(pk=pk))

    def row(self, pk: int) -> dict | None:
        with sqlite3.connect(self.db, timeout=20) as conn:
            conn.row_factory = sqlite3.Row
            found = conn.execute("SELECT * FROM tenants_tenantcontrolplane WHERE id = ?", (pk,)).fetchone()
        return dict(found) if found else None
