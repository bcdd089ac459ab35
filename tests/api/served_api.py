"""`manage.py serve` on a throwaway app database (SQLite file or a PostgreSQL database), for load.

Used by the API load test and `benchmarks.api_load`: the real server process (daphne, and with
`controller=True` the in-process controller on the management cluster of `KUBECONFIG`), an
owner with an API token, and the local etcd as the default datastore. Loopback only.
"""

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from localcluster import datastore_servers
from tests.live.served_app import run_manage
from tests.waiting import free_port

BASE_DIR = Path(__file__).resolve().parents[2]
DATABASES = ("sqlite", "postgresql")

SEED = """
import json
from rest_framework.authtoken.models import Token
from datastores.services.registration import register_local_datastores
from tests.factories import make_org, make_user
rows = {ds.driver: ds for ds in register_local_datastores()}
for ds in rows.values():
    ds.is_default = ds.driver == "etcd"
    ds.save(update_fields=["is_default"])
org = make_org(slug="load")
owner = make_user(role="owner", org=org, username="load-owner")
print(json.dumps({"org": org.slug, "token": Token.objects.create(user=owner).key}))
"""

# What is left of clusters, read inside the app (either database): rows, audit, etcd users.
STATE = """
import json
from audit.models import AuditEvent
from datastores.drivers import driver_for
from datastores.models import DataStore
from tenants.models import TenantControlPlane, Upgrade
etcd = DataStore.objects.get(driver="etcd")
with driver_for(etcd).gateway() as gw:
    users = gw.call("auth/user/list", {}).get("users", [])
print(json.dumps({
    "rows": list(TenantControlPlane.objects.values("pk", "uid", "name", "phase", "generation",
                                                   "observed_generation", "cert_sans")),
    "orphans": Upgrade.objects.exclude(tenant__in=TenantControlPlane.objects.all()).count(),
    "audit": {a: AuditEvent.objects.filter(action=a).count() for a in ("cluster.create", "cluster.update",
                                                                         "cluster.delete", "cluster.deleted")},
    "etcd_users": users,
}, default=str))
"""


@dataclass
class ServedAPI:
    url: str
    org: str
    token: str
    env: dict
    process: subprocess.Popen
    log_path: Path

    def session(self) -> requests.Session:
        s = requests.Session()
        s.headers["Authorization"] = f"Token {self.token}"
        return s

    def shell(self, code: str) -> str:
        return run_manage(self.env, "shell", "-c", code).strip().splitlines()[-1]

    def state(self) -> dict:
        return json.loads(self.shell(STATE))

    def delete_all(self, timeout: float = 240) -> None:
        """Delete every cluster through the API and wait (bounded) until the controller removed them all:
        what a test leaves behind on the shared cluster, even when it fails half-way."""
        http, deadline = self.session(), time.monotonic() + timeout
        for row in self.state()["rows"]:
            http.delete(f"{self.url}/api/clusters/{row['pk']}/", timeout=30)
        while self.state()["rows"] and time.monotonic() < deadline:
            time.sleep(2)

    def stop(self) -> int:
        """SIGTERM by pid (serve hands its Lease back); SIGKILL if it does not stop in 30 s."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@contextlib.contextmanager
def app_database(kind: str, workdir: Path) -> Iterator[str]:
    """A fresh, empty app database: its DATABASE_URL. PostgreSQL: a database created on the local
    server for this run and dropped after it (the server is started if needed, and left running)."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'db.sqlite3'}"
        return
    import psycopg

    datastore_servers.start("postgresql")
    name = f"kui_app_{uuid.uuid4().hex[:10]}"
    password = datastore_servers.postgresql_admin_password()
    admin = {"host": datastore_servers.LOOPBACK, "port": datastore_servers.POSTGRESQL_PORT,
             "user": datastore_servers.POSTGRESQL_ADMIN, "password": password, "dbname": "postgres",
             "connect_timeout": 10, "autocommit": True}
    with psycopg.connect(**admin) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield (f"postgres://{datastore_servers.POSTGRESQL_ADMIN}:{password}@{datastore_servers.LOOPBACK}:"
               f"{datastore_servers.POSTGRESQL_PORT}/{name}")
    finally:
        with psycopg.connect(**admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def app_env(database_url: str, *, kubeconfig: Path | None, lease_namespace: str | None, controller: bool) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "KAMAJI_UI_CRASH_AT")}
    env.update({"DJANGO_SETTINGS_MODULE": "kamaji_ui.settings", "DATABASE_URL": database_url,
                "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING",
                "KAMAJI_UI_CONTROLLER_IN_PROCESS": "true" if controller else "false"})
    if kubeconfig:  # a KUBECONFIG turns the embedded local-cluster start off: the test owns the cluster
        env["KUBECONFIG"] = str(kubeconfig)
    if lease_namespace:
        env["KAMAJI_UI_LEASE_NAMESPACE"] = lease_namespace  # not the Lease of another controller on this cluster
    return env


def serve(database_url: str, *, workdir: Path, kubeconfig: Path | None = None, lease_namespace: str | None = None,
          controller: bool = False, timeout: float = 60) -> ServedAPI:
    """Migrate and seed the database, start `manage.py serve`, wait until the API answers
    (and, with `controller`, until the controller runs)."""
    env = app_env(database_url, kubeconfig=kubeconfig, lease_namespace=lease_namespace, controller=controller)
    run_manage(env, "migrate", "--noinput", timeout=300)
    seeded = json.loads(run_manage(env, "shell", "-c", SEED).strip().splitlines()[-1])
    port = free_port()
    log_path = workdir / f"serve-{port}.log"
    argv = [sys.executable, str(BASE_DIR / "manage.py"), "serve", "--port", str(port)]
    if not controller:
        argv.append("--no-embedded")
    process = subprocess.Popen(argv, env=env, cwd=BASE_DIR, stdout=log_path.open("w"), stderr=subprocess.STDOUT)
    app = ServedAPI(url=f"http://127.0.0.1:{port}", org=seeded["org"], token=seeded["token"], env=env,
                    process=process, log_path=log_path)
    deadline = time.monotonic() + timeout
    while not _up(app, controller):
        if process.poll() is not None or time.monotonic() > deadline:
            app.stop()
            raise RuntimeError(f"server did not start:\n{log_path.read_text(errors='replace')}")
        time.sleep(0.3)
    return app


def _up(app: ServedAPI, controller: bool) -> bool:
    if controller and "controller" not in app.log_path.read_text(errors="replace"):
        return False
    try:
        return app.session().get(f"{app.url}/api/clusters/", timeout=2).status_code == 200
    except requests.RequestException:
        return False
