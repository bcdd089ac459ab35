"""The real app served over ASGI (daphne's runserver: HTTP, WebSockets, static) on its own SQLite file.

Used by the live browser test and the fan-out benchmark: they need a server process of the
embedded default (in-memory channel layer, watchers in the server) that a browser or many
WebSocket clients can reach on 127.0.0.1, with a signed-in user and a cluster row seeded.
"""

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.waiting import free_port

BASE_DIR = Path(__file__).resolve().parents[2]

SEED = """
import json, os
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY
from tenants.models import Membership, Organization, TenantControlPlane
args = json.loads(os.environ["KUI_LIVE_SEED"])
org = Organization.objects.create(name="Live", slug="live")
user = get_user_model().objects.create_user(username="watcher", password=None)
Membership.objects.create(user=user, organization=org, role="viewer")
tenant = TenantControlPlane(id=args["tenant_pk"], organization=org, name=args["name"], phase="Ready")
tenant.save()
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(json.dumps({"session": session.session_key, "tenant_pk": tenant.pk, "namespace": tenant.namespace}))
"""


@dataclass
class ServedApp:
    url: str
    port: int
    process: subprocess.Popen
    env: dict
    log_path: Path

    def manage(self, *args: str, timeout: float = 120) -> str:
        return run_manage(self.env, *args, timeout=timeout)

    def stop(self) -> None:
        """Stop the server by its pid."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_manage(env: dict, *args: str, timeout: float = 120) -> str:
    result = subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], env=env, cwd=BASE_DIR,
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def app_env(workdir: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL")}
    env.update({"DJANGO_SETTINGS_MODULE": "kamaji_ui.settings", "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
                "PYTHONUNBUFFERED": "1", **extra})
    return env


def prepare_database(env: dict, *, tenant_pk: int, name: str) -> dict:
    """Migrate the fresh database and seed a viewer with a session and one Ready cluster."""
    run_manage(env, "migrate", "--noinput", timeout=300)
    seed_env = {**env, "KUI_LIVE_SEED": json.dumps({"tenant_pk": tenant_pk, "name": name})}
    return json.loads(run_manage(seed_env, "shell", "-c", SEED).strip().splitlines()[-1])


def serve(env: dict, *, workdir: Path, port: int | None = None, timeout: float = 60) -> ServedApp:
    """Start daphne's runserver (ASGI; --insecure serves static without DEBUG) and wait for it to answer."""
    port = port or free_port()
    log_path = workdir / "server.log"
    process = subprocess.Popen(
        [sys.executable, str(BASE_DIR / "manage.py"), "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"],
        env=env, cwd=BASE_DIR, stdout=log_path.open("ab"), stderr=subprocess.STDOUT,
    )
    app = ServedApp(url=f"http://127.0.0.1:{port}", port=port, process=process, env=env, log_path=log_path)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return app
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                app.stop()
                raise RuntimeError(f"server did not start:\n{log_path.read_text(errors='replace')}") from None
            time.sleep(0.2)
