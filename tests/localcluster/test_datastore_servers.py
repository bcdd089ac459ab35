"""The datastore servers on this machine: run by pid, reachable where pods reach them, etcd locked down."""

import json
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from kamaji_ui.x509 import CertKey, create_ca, issue_certificate
from localcluster import datastore_servers as servers
from localcluster import network
from localcluster.daemons import process_start_time

pytestmark = pytest.mark.datastores


@pytest.fixture(scope="module")
def running():
    """Every server up (reused if already running); those this module started are stopped afterwards."""
    before = {name for name in servers.SERVERS if servers.pid_of(name)}
    pids = {name: servers.start(name) for name in servers.SERVERS}
    yield pids
    for name in set(servers.SERVERS) - before:
        servers.stop(name)


def accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def test_start_is_idempotent_and_status_reports_every_server(running):
    assert {name: servers.start(name) for name in servers.SERVERS} == running
    assert servers.status() == {name: {"pid": pid, "ready": True} for name, pid in running.items()}


def test_datastores_listen_on_the_bridge_and_loopback_and_redis_on_loopback_only(running):
    bridge, loopback = network.BRIDGE_IP, "127.0.0.1"
    for port in (servers.ETCD_CLIENT_PORT, servers.POSTGRESQL_PORT, servers.MYSQL_PORT):
        assert accepts(bridge, port) and accepts(loopback, port), port
    assert accepts(bridge, servers.NATS_PORT)  # nats-server takes one address: the bridge's
    assert accepts(loopback, servers.REDIS_PORT) and not accepts(bridge, servers.REDIS_PORT)
    assert not accepts(bridge, servers.ETCD_PEER_PORT)  # peers talk on loopback only


def session_with(*, cert: CertKey | None, ca_pem: str, directory: Path) -> requests.Session:
    (directory / "ca.crt").write_text(ca_pem)
    session = requests.Session()
    session.trust_env = False
    session.verify = str(directory / "ca.crt")
    if cert:
        (directory / "c.crt").write_text(cert.cert_pem)
        (directory / "c.key").write_text(cert.key_pem)
        session.cert = (str(directory / "c.crt"), str(directory / "c.key"))
    return session


def test_etcd_requires_a_client_certificate_from_its_own_ca(running, tmp_path):
    ca = servers.etcd_pki()["ca"]
    stranger_ca = create_ca(common_name="stranger", validity=timedelta(days=1))
    stranger = issue_certificate(ca=stranger_ca, common_name="", client=True, validity=timedelta(days=1))
    for cert in (None, stranger):
        with pytest.raises(requests.exceptions.ConnectionError):
            session_with(cert=cert, ca_pem=ca.cert_pem, directory=tmp_path).post(
                f"{servers.ETCD_URL}/v3/kv/range", data="{}", timeout=5)


def test_etcd_has_auth_enabled_so_a_certificate_alone_reads_nothing(running, tmp_path):
    pairs = servers.etcd_pki()
    session = session_with(cert=pairs["admin"], ca_pem=pairs["ca"].cert_pem, directory=tmp_path)
    reply = session.post(f"{servers.ETCD_URL}/v3/kv/range", data=json.dumps({"key": "Lw=="}), timeout=5)
    assert reply.status_code != 200 and "user name is empty" in reply.json()["message"]
    login = session.post(f"{servers.ETCD_URL}/v3/auth/authenticate", timeout=5,
                         data=json.dumps({"name": "root", "password": servers.etcd_root_password()}))
    assert login.status_code == 200 and login.json()["token"]


def test_a_server_stops_by_pid_and_starts_again(running):
    pid = servers.pid_of("nats")
    assert servers.stop("nats") is True
    assert servers.pid_of("nats") is None and process_start_time(pid) is None  # gone (at most a zombie)
    assert not accepts(network.BRIDGE_IP, servers.NATS_PORT)
    assert servers.stop("nats") is False  # already stopped: nothing to do
    with ThreadPoolExecutor(max_workers=3) as pool:  # concurrent starts (say, two test runs) make one server
        new_pids = set(pool.map(lambda _: servers.start("nats"), range(3)))
    assert len(new_pids) == 1 and pid not in new_pids and accepts(network.BRIDGE_IP, servers.NATS_PORT)
    ours = [p for p in Path("/proc").iterdir() if p.name.isdigit() and str(servers.NATS_DIR) in _cmdline(p)]
    assert [int(p.name) for p in ours] == list(new_pids)


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_the_command_line_reports_status(running):
    done = subprocess.run([sys.executable, "-m", "localcluster.datastore_servers", "status", "etcd", "mysql"],
                          capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.splitlines() == [f"etcd: pid {servers.pid_of('etcd')}, ready",
                                        f"mysql: pid {servers.pid_of('mysql')}, ready"]
    bad = subprocess.run([sys.executable, "-m", "localcluster.datastore_servers", "status", "oracle"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "unknown server(s): oracle" in bad.stderr


def test_specs_describe_every_tenant_datastore_with_its_credentials(running):
    specs = {s.driver: s for s in servers.local_datastore_specs()}
    assert set(specs) == {"etcd", "postgresql", "mysql", "nats"}
    assert specs["etcd"].endpoints == [f"https://{network.BRIDGE_IP}:{servers.ETCD_CLIENT_PORT}"]
    assert specs["postgresql"].endpoints == [f"{network.BRIDGE_IP}:{servers.POSTGRESQL_PORT}"]
    assert all(s.password for s in specs.values())
    assert specs["etcd"].ca_key.startswith("-----BEGIN PRIVATE KEY-----")


def test_a_credential_is_made_once_even_by_concurrent_callers(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "admin-password"
    with ThreadPoolExecutor(max_workers=16) as pool:
        seen = set(pool.map(lambda _: servers._secret(path), range(64)))
    assert seen == {path.read_text()} and len(path.read_text()) >= 32
    assert (path.stat().st_mode & 0o777) == 0o600 and list(tmp_path.iterdir()) == [path]
