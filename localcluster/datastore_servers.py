"""Tenant datastore servers on this machine: etcd (TLS + auth), PostgreSQL, MariaDB, NATS, plus Redis.

Each runs as a plain process started and stopped by pid, with its data, credentials and log under
STATE/datastores/<name>/. Like the node, they live in its network namespace (`netns.py`, so `start`
runs them from inside it): the datastores listen on the bridge address, where pods reach them, and on
loopback; Redis (the channel layer's, not a tenant datastore) only on loopback.

    python -m localcluster.datastore_servers start|stop|status [NAME ...]

`local_datastore_specs()` tells the app how to register them (datastores.services.registration).
"""

import argparse
import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import requests

from kamaji_ui.x509 import CertKey, create_ca, issue_certificate
from localcluster import netns, network, paths, versions
from localcluster.daemons import Daemon

ROOT = paths.STATE / "datastores"
LOOPBACK = "127.0.0.1"
HOST = network.BRIDGE_IP  # what pods and the app use to reach a datastore

# Ports clear of the management cluster's etcd (2379/2380/2381) and of any system server's default.
ETCD_CLIENT_PORT = 23790
ETCD_PEER_PORT = 23800
POSTGRESQL_PORT = 55432
MYSQL_PORT = 33306
NATS_PORT = 14222  # not 4222/6379: Debian's own services may hold those
REDIS_PORT = 16379

ETCD_BINARY = paths.bin_dir("etcd", versions.ETCD) / "etcd"


def _postgresql_bin() -> Path:
    """Debian installs one directory per major version; take the newest."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


POSTGRESQL_BIN = _postgresql_bin()
MARIADBD = Path("/usr/sbin/mariadbd")
MARIADB_INSTALL_DB = Path("/usr/bin/mariadb-install-db")
NATS_SERVER = Path("/usr/sbin/nats-server")
REDIS_SERVER = Path("/usr/bin/redis-server")

PKI_VALIDITY = timedelta(days=3650)  # a development CA on one machine; rotated by deleting ETCD_DIR/pki
STARTUP_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0

POSTGRESQL_ADMIN = "postgres"
MYSQL_ADMIN = "kui_admin"
NATS_ADMIN = "kui_admin"
ETCD_ADMIN = "root"


@dataclass(frozen=True)
class DataStoreSpec:
    """One local server as a DataStore row wants it (see datastores.models.DataStore)."""

    name: str
    driver: str
    endpoints: list[str]
    ca_certificate: str = ""
    ca_key: str = ""
    client_certificate: str = ""
    client_key: str = ""
    username: str = ""
    password: str = ""
    is_default: bool = False
    enabled: bool = True


def server_dir(name: str) -> Path:
    return ROOT / name


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def _secret(path: Path) -> str:
    """A random credential made once and kept in `path` (0600); the first of concurrent callers makes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # 0600
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(24))
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)  # atomic, and fails if another caller got there first
        os.unlink(draft)
    return path.read_text().strip()


def _chown_tree(path: Path, user: str) -> None:
    shutil.chown(path, user, user)
    for p in path.rglob("*"):
        shutil.chown(p, user, user)


def _run(argv: list[str], **kwargs) -> None:
    """Run a one-off setup command; on failure, say what it printed."""
    done = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, **kwargs)
    if done.returncode != 0:
        output = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise RuntimeError(f"{Path(argv[0]).name} failed (exit {done.returncode}):\n{output}")


def _prepare_root() -> None:
    ROOT.mkdir(parents=True, exist_ok=True)
    # The servers run as their own OS users (postgres refuses root), so they must traverse down to here.
    for d in (paths.STATE, ROOT):
        d.chmod(d.stat().st_mode | 0o711)


# --- etcd -------------------------------------------------------------------------------------------

ETCD_DIR = server_dir("etcd")
ETCD_PKI = ETCD_DIR / "pki"
ETCD_URL = f"https://{HOST}:{ETCD_CLIENT_PORT}"
ETCD_LOCAL_URL = f"https://{LOOPBACK}:{ETCD_CLIENT_PORT}"


def etcd_pki() -> dict[str, CertKey]:
    """The etcd server's own CA and certificates, made once: ca, server, peer and admin (no CN, see below)."""
    ETCD_PKI.mkdir(parents=True, exist_ok=True)
    with open(ETCD_PKI / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two first starts must not make two CAs
        return _etcd_pki_locked()


def _etcd_pki_locked() -> dict[str, CertKey]:
    pairs = {}
    ca_files = (ETCD_PKI / "ca.crt", ETCD_PKI / "ca.key")
    new_ca = not all(f.exists() for f in ca_files)
    if new_ca:
        ca = create_ca(common_name="kamaji-ui datastore etcd CA", validity=PKI_VALIDITY)
        _write_private(ca_files[0], ca.cert_pem)
        _write_private(ca_files[1], ca.key_pem)
    pairs["ca"] = CertKey(ca_files[0].read_text(), ca_files[1].read_text())
    hosts = (HOST, LOOPBACK, "localhost")
    wanted = {
        # The gRPC gateway dials the server with the server's own certificate, so it needs clientAuth too.
        "server": dict(common_name="kamaji-ui-etcd", server=True, client=True, hosts=hosts),
        "peer": dict(common_name="kamaji-ui-etcd-peer", server=True, client=True, hosts=hosts),
        # etcd refuses JSON-gateway requests from a certificate with a CN once auth is on (the gateway cannot
        # pass the CN on): the admin identity for the gateway has none and logs in as root with a password.
        "admin": dict(common_name="", organizations=["kamaji-ui"], client=True),
    }
    for name, options in wanted.items():
        crt, key = ETCD_PKI / f"{name}.crt", ETCD_PKI / f"{name}.key"
        if new_ca or not (crt.exists() and key.exists()):
            pair = issue_certificate(ca=pairs["ca"], validity=PKI_VALIDITY, **options)
            _write_private(crt, pair.cert_pem)
            _write_private(key, pair.key_pem)
        pairs[name] = CertKey(crt.read_text(), key.read_text())
    return pairs


def etcd_root_password() -> str:
    return _secret(ETCD_DIR / "root-password")


def _etcd_prepare() -> None:
    network.ensure_bridge()
    if not ETCD_BINARY.exists():
        raise RuntimeError(f"{ETCD_BINARY} is missing: build it first (python -m localcluster.build)")
    ETCD_DIR.mkdir(parents=True, exist_ok=True)
    ETCD_DIR.chmod(0o700)
    etcd_pki()
    etcd_root_password()


def _etcd_argv() -> list[str]:
    p = ETCD_PKI
    peer_url = f"https://{LOOPBACK}:{ETCD_PEER_PORT}"
    return [
        str(ETCD_BINARY),
        "--name=kui-datastore",
        f"--data-dir={ETCD_DIR / 'data'}",
        f"--listen-client-urls={ETCD_URL},{ETCD_LOCAL_URL}",
        f"--advertise-client-urls={ETCD_URL}",
        f"--listen-peer-urls={peer_url}",
        f"--initial-advertise-peer-urls={peer_url}",
        f"--initial-cluster=kui-datastore={peer_url}",
        f"--cert-file={p / 'server.crt'}", f"--key-file={p / 'server.key'}",
        f"--trusted-ca-file={p / 'ca.crt'}", "--client-cert-auth",
        f"--peer-cert-file={p / 'peer.crt'}", f"--peer-key-file={p / 'peer.key'}",
        f"--peer-trusted-ca-file={p / 'ca.crt'}", "--peer-client-cert-auth",
        # Compaction needs root in etcd's auth model, so tenant apiservers run with
        # --etcd-compaction-interval=0 and etcd compacts its own history instead.
        "--auto-compaction-mode=periodic", "--auto-compaction-retention=1h",
        "--log-level=warn",
    ]


def etcd_gateway_session() -> tuple[requests.Session, tempfile.TemporaryDirectory]:
    """A requests session with the admin (CN-less) client certificate; remove the directory when done."""
    pairs = etcd_pki()
    tmp = tempfile.TemporaryDirectory(prefix="kui-etcd-")
    for name, text in (("ca.crt", pairs["ca"].cert_pem), ("admin.crt", pairs["admin"].cert_pem),
                       ("admin.key", pairs["admin"].key_pem)):
        _write_private(Path(tmp.name) / name, text)
    session = requests.Session()
    session.trust_env = False  # no proxy and no CA bundle from the environment: only this server, only its CA
    session.verify = str(Path(tmp.name) / "ca.crt")
    session.cert = (str(Path(tmp.name) / "admin.crt"), str(Path(tmp.name) / "admin.key"))
    return session, tmp


def _etcd_ready() -> bool:
    session, tmp = etcd_gateway_session()
    with tmp, session:
        try:
            return session.get(f"{ETCD_LOCAL_URL}/health", timeout=3).json().get("health") == "true"
        except (requests.RequestException, ValueError):
            return False


def _etcd_enable_auth() -> None:
    """At first start: create root (password + root role) and turn auth on, through the JSON gateway."""
    session, tmp = etcd_gateway_session()
    with tmp, session:
        def call(path: str, body: dict) -> dict:
            reply = session.post(f"{ETCD_LOCAL_URL}/v3/{path}", data=json.dumps(body), timeout=10)
            payload = reply.json()
            if reply.status_code != 200 and "already" not in payload.get("message", ""):
                raise RuntimeError(f"etcd {path}: {payload.get('message') or reply.text}")
            return payload

        reply = session.post(f"{ETCD_LOCAL_URL}/v3/auth/authenticate", timeout=10,
                             data=json.dumps({"name": ETCD_ADMIN, "password": etcd_root_password()}))
        if reply.status_code == 200:
            return  # auth already on, and root's password is ours
        if "not enabled" not in reply.text:
            raise RuntimeError(f"etcd auth: {reply.text}")
        call("auth/user/add", {"name": ETCD_ADMIN, "password": etcd_root_password()})
        call("auth/user/changepw", {"name": ETCD_ADMIN, "password": etcd_root_password()})
        call("auth/user/grant", {"user": ETCD_ADMIN, "role": "root"})
        call("auth/enable", {})


# --- PostgreSQL -------------------------------------------------------------------------------------

POSTGRESQL_DIR = server_dir("postgresql")


def postgresql_admin_password() -> str:
    return _secret(POSTGRESQL_DIR / "admin-password")


def _postgresql_prepare() -> None:
    network.ensure_bridge()
    POSTGRESQL_DIR.mkdir(parents=True, exist_ok=True)
    POSTGRESQL_DIR.chmod(0o700)
    (POSTGRESQL_DIR / "run").mkdir(exist_ok=True)
    password = postgresql_admin_password()
    _chown_tree(POSTGRESQL_DIR, "postgres")
    data = POSTGRESQL_DIR / "data"
    if (data / "PG_VERSION").exists():
        return
    pwfile = POSTGRESQL_DIR / "initdb-password"
    _write_private(pwfile, password + "\n")
    shutil.chown(pwfile, "postgres", "postgres")
    try:
        _run([str(POSTGRESQL_BIN / "initdb"), "-D", str(data), "-U", POSTGRESQL_ADMIN, f"--pwfile={pwfile}",
              "--auth-local=peer", "--auth-host=scram-sha-256", "--encoding=UTF8", "--no-locale"],
             user="postgres", cwd=POSTGRESQL_DIR)
    finally:
        pwfile.unlink(missing_ok=True)
    # Password logins from loopback and the pod network; which database a tenant may open is the
    # driver's business (it revokes CONNECT from PUBLIC), as on any server an operator registers.
    (data / "pg_hba.conf").write_text(
        "local all postgres peer\n"
        f"host all all {LOOPBACK}/32 scram-sha-256\n"
        f"host all all {network.POD_CIDR} scram-sha-256\n"
    )


def _postgresql_argv() -> list[str]:
    return [
        str(POSTGRESQL_BIN / "postgres"), "-D", str(POSTGRESQL_DIR / "data"), "-p", str(POSTGRESQL_PORT),
        "-c", f"listen_addresses={HOST},{LOOPBACK}",
        "-c", f"unix_socket_directories={POSTGRESQL_DIR / 'run'}",
        "-c", "max_connections=300", "-c", "shared_buffers=64MB",
    ]


def _postgresql_ready() -> bool:
    import psycopg

    try:
        with psycopg.connect(host=LOOPBACK, port=POSTGRESQL_PORT, user=POSTGRESQL_ADMIN, dbname="postgres",
                             password=postgresql_admin_password(), connect_timeout=3) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)
    except psycopg.OperationalError:
        return False


# --- MariaDB ----------------------------------------------------------------------------------------

MYSQL_DIR = server_dir("mysql")


def mysql_admin_password() -> str:
    return _secret(MYSQL_DIR / "admin-password")


def _mysql_prepare() -> None:
    network.ensure_bridge()
    MYSQL_DIR.mkdir(parents=True, exist_ok=True)
    MYSQL_DIR.chmod(0o700)
    (MYSQL_DIR / "run").mkdir(exist_ok=True)
    password = mysql_admin_password()
    # Run at every start, so the admin account exists and has our password whatever happened before.
    _write_private(MYSQL_DIR / "init.sql", (
        f"CREATE USER IF NOT EXISTS '{MYSQL_ADMIN}'@'%' IDENTIFIED BY '{password}';\n"
        f"ALTER USER '{MYSQL_ADMIN}'@'%' IDENTIFIED BY '{password}';\n"
        f"GRANT ALL PRIVILEGES ON *.* TO '{MYSQL_ADMIN}'@'%' WITH GRANT OPTION;\n"
    ))
    _chown_tree(MYSQL_DIR, "mysql")
    data = MYSQL_DIR / "data"
    if not (data / "mysql").exists():
        _run([str(MARIADB_INSTALL_DB), "--no-defaults", "--user=mysql", f"--datadir={data}", "--basedir=/usr",
              "--auth-root-authentication-method=socket", "--skip-test-db"], cwd=MYSQL_DIR)


def _mysql_argv() -> list[str]:
    run = MYSQL_DIR / "run"
    return [
        str(MARIADBD), "--no-defaults", "--user=mysql", "--basedir=/usr", f"--datadir={MYSQL_DIR / 'data'}",
        f"--socket={run / 'mysqld.sock'}", f"--pid-file={run / 'mysqld.pid'}",
        f"--port={MYSQL_PORT}", f"--bind-address={HOST},{LOOPBACK}", "--skip-name-resolve",
        f"--init-file={MYSQL_DIR / 'init.sql'}",
        "--innodb-buffer-pool-size=64M", "--performance-schema=OFF", "--max-connections=300",
    ]


def _mysql_ready() -> bool:
    import pymysql

    try:
        conn = pymysql.connect(host=LOOPBACK, port=MYSQL_PORT, user=MYSQL_ADMIN, password=mysql_admin_password(),
                               connect_timeout=3)
    except pymysql.MySQLError:
        return False
    with conn:
        return True


# --- NATS -------------------------------------------------------------------------------------------

NATS_DIR = server_dir("nats")


def nats_admin_password() -> str:
    return _secret(NATS_DIR / "admin-password")


def _nats_prepare() -> None:
    network.ensure_bridge()
    NATS_DIR.mkdir(parents=True, exist_ok=True)
    NATS_DIR.chmod(0o700)
    (NATS_DIR / "jetstream").mkdir(exist_ok=True)
    nats_admin_password()
    _chown_tree(NATS_DIR, "nats")


def _nats_argv() -> list[str]:
    # nats-server listens on one address only: the bridge's, which the host reaches as well.
    return [
        str(NATS_SERVER), "-a", HOST, "-p", str(NATS_PORT), "-js", "-sd", str(NATS_DIR / "jetstream"),
        "--user", NATS_ADMIN, "--pass", nats_admin_password(),
    ]


def _greets(host: str, port: int, hello: bytes, expect: bytes) -> bool:
    try:
        with socket.create_connection((host, port), timeout=3) as s:
            if hello:
                s.sendall(hello)
            return s.recv(64).startswith(expect)
    except OSError:
        return False


# --- Redis (the channel layer's, loopback only) -----------------------------------------------------

REDIS_DIR = server_dir("redis")
REDIS_URL = f"redis://{LOOPBACK}:{REDIS_PORT}/0"


def _redis_prepare() -> None:
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    _chown_tree(REDIS_DIR, "redis")


def _redis_argv() -> list[str]:
    return [str(REDIS_SERVER), "--bind", LOOPBACK, "--port", str(REDIS_PORT), "--dir", str(REDIS_DIR),
            "--save", "", "--appendonly", "no", "--daemonize", "no"]


# --- process control --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    name: str
    prepare: Callable[[], None]  # idempotent: directories, credentials, first-time init
    argv: Callable[[], list[str]]
    ready: Callable[[], bool]
    after_start: Callable[[], None] = field(default=lambda: None)
    user: str | None = None  # OS user to run as
    stop_signal: signal.Signals = signal.SIGTERM


SERVERS: dict[str, Server] = {
    s.name: s
    for s in (
        Server("etcd", _etcd_prepare, _etcd_argv, _etcd_ready, after_start=_etcd_enable_auth),
        # SIGINT is PostgreSQL's "fast" shutdown: it does not wait for clients to leave.
        Server("postgresql", _postgresql_prepare, _postgresql_argv, _postgresql_ready,
               user="postgres", stop_signal=signal.SIGINT),
        # mariadbd drops to --user=mysql itself.
        Server("mysql", _mysql_prepare, _mysql_argv, _mysql_ready),
        Server("nats", _nats_prepare, _nats_argv,
               lambda: _greets(HOST, NATS_PORT, b"", b"INFO"), user="nats"),
        Server("redis", _redis_prepare, _redis_argv,
               lambda: _greets(LOOPBACK, REDIS_PORT, b"PING\r\n", b"+PONG"), user="redis"),
    )
}


def daemon(name: str, argv: list[str] | None = None) -> Daemon:
    """Server `name` as a pid-file daemon; its pid file and log live in its own directory."""
    server = SERVERS[name]
    return Daemon(name, argv or [], user=server.user, stop_signal=server.stop_signal, stop_timeout=STOP_TIMEOUT,
                  home=server_dir(name))


def logfile(name: str) -> Path:
    return daemon(name).log_file


def pid_of(name: str) -> int | None:
    """The pid of the running server `name`, or None."""
    return daemon(name).pid()


@contextlib.contextmanager
def _locked(name: str):
    """One start or stop of server `name` at a time on this machine (test runs share the servers)."""
    _prepare_root()
    server_dir(name).mkdir(parents=True, exist_ok=True)
    with open(server_dir(name) / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def start(name: str) -> int:
    """Start server `name` unless it runs; wait until it answers. Returns its pid."""
    server = SERVERS[name]
    with _locked(name), netns.inside():
        server.prepare()
        proc = daemon(name, server.argv())
        pid = proc.pid() or proc.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        # Alive first, then answering: a stranger on our port (say a distribution's own service) must not pass.
        while (why := proc.exited_early()) is None and not server.ready():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not answer within {STARTUP_TIMEOUT:.0f}s; see {proc.log_file}")
            time.sleep(0.3)
        if why is not None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # reap it if it was our child
            raise RuntimeError(why)
        server.after_start()
    return pid


def stop(name: str) -> bool:
    """Stop server `name` by its pid (SIGKILL after STOP_TIMEOUT). True if it was running."""
    with _locked(name):
        proc = daemon(name)
        running = proc.pid() is not None
        proc.stop()
    return running


def status() -> dict[str, dict]:
    """For each server: its pid (or None) and whether it answers."""
    with netns.inside():
        return {name: {"pid": pid_of(name), "ready": pid_of(name) is not None and s.ready()}
                for name, s in SERVERS.items()}


def local_datastore_specs() -> list[DataStoreSpec]:
    """How to register the local datastore servers as DataStore rows (credentials are made if missing).

    NATS is registered disabled: its driver cannot provision tenants yet.
    """
    _prepare_root()
    for d in (ETCD_DIR, POSTGRESQL_DIR, MYSQL_DIR, NATS_DIR):
        d.mkdir(parents=True, exist_ok=True)
        d.chmod(0o700)
    etcd = etcd_pki()
    return [
        DataStoreSpec(
            name="local-etcd", driver="etcd", endpoints=[ETCD_URL], ca_certificate=etcd["ca"].cert_pem,
            ca_key=etcd["ca"].key_pem, client_certificate=etcd["admin"].cert_pem,
            client_key=etcd["admin"].key_pem, username=ETCD_ADMIN, password=etcd_root_password(), is_default=True,
        ),
        DataStoreSpec(name="local-postgresql", driver="postgresql", endpoints=[f"{HOST}:{POSTGRESQL_PORT}"],
                      username=POSTGRESQL_ADMIN, password=postgresql_admin_password()),
        DataStoreSpec(name="local-mysql", driver="mysql", endpoints=[f"{HOST}:{MYSQL_PORT}"],
                      username=MYSQL_ADMIN, password=mysql_admin_password()),
        DataStoreSpec(name="local-nats", driver="nats", endpoints=[f"nats://{HOST}:{NATS_PORT}"],
                      username=NATS_ADMIN, password=nats_admin_password(), enabled=False),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcluster.datastore_servers",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(SERVERS)} (default: all)")
    args = parser.parse_args(argv)
    names = args.names or list(SERVERS)
    if unknown := set(names) - set(SERVERS):
        parser.error(f"unknown server(s): {', '.join(sorted(unknown))}")
    if args.action == "start":
        for name in names:
            t0 = time.monotonic()
            pid = start(name)
            print(f"{name}: running, pid {pid} ({time.monotonic() - t0:.1f}s); log {logfile(name)}")
    elif args.action == "stop":
        for name in reversed(names):
            print(f"{name}: {'stopped' if stop(name) else 'was not running'}")
    else:
        for name, state in status().items():
            if name in names:
                print(f"{name}: " + (f"pid {state['pid']}, {'ready' if state['ready'] else 'NOT answering'}"
                                     if state["pid"] else "stopped"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
