"""A real kube-apiserver on the tenant's own etcd identity: the client certificate's CN is its etcd user.

Over etcd's JSON gateway a certificate's CN is not an identity, so only a gRPC client like the apiserver
can prove this: with the tenant's certificate it stores everything under the tenant's prefix, and with
another tenant's certificate it cannot use that prefix.
"""

import subprocess
import time
from pathlib import Path

import pytest
import requests
import urllib3
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from datastores.drivers import driver_for
from localcluster import paths, versions
from tests.waiting import free_port

pytestmark = [pytest.mark.datastores, pytest.mark.django_db]

APISERVER = paths.bin_dir("kubernetes", versions.MANAGEMENT) / "kube-apiserver"
READY_TIMEOUT = 120.0
TOKEN = "datastore-identity-test-token"


def write_files(directory: Path, conn) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    files = {
        "etcd-ca.crt": conn.ca_pem, "etcd-client.crt": conn.client_cert_pem, "etcd-client.key": conn.client_key_pem,
        "sa.key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode(),
        "sa.pub": key.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
    }
    files["tokens.csv"] = f"{TOKEN},tester,tester-uid,system:masters\n"
    for name, text in files.items():
        (directory / name).write_text(text)
        (directory / name).chmod(0o600)


def start_apiserver(directory: Path, *, conn, prefix: str, port: int) -> subprocess.Popen:
    d = directory
    argv = [
        str(APISERVER), f"--etcd-servers={','.join(conn.endpoints)}", f"--etcd-prefix={prefix}",
        f"--etcd-cafile={d / 'etcd-ca.crt'}", f"--etcd-certfile={d / 'etcd-client.crt'}",
        f"--etcd-keyfile={d / 'etcd-client.key'}",
        "--etcd-compaction-interval=0",  # compaction needs etcd's root role; the server compacts itself
        "--bind-address=127.0.0.1", "--advertise-address=10.212.0.1", f"--secure-port={port}", f"--cert-dir={d}",
        "--service-account-issuer=https://kubernetes.default.svc", f"--service-account-key-file={d / 'sa.pub'}",
        f"--service-account-signing-key-file={d / 'sa.key'}", "--service-cluster-ip-range=10.96.0.0/16",
        # AlwaysAllow turns anonymous access off: the test logs in with a static token.
        "--authorization-mode=AlwaysAllow", f"--token-auth-file={d / 'tokens.csv'}",
    ]
    log = open(d / "apiserver.log", "wb")  # noqa: SIM115 - handed to the child, closed with the directory
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def api(port: int) -> requests.Session:
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    session = requests.Session()
    session.trust_env = False
    session.verify = False  # the apiserver's self-signed serving certificate; loopback only
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    session.base = f"https://127.0.0.1:{port}"
    return session


def wait_ready(proc: subprocess.Popen, session: requests.Session, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if session.get(f"{session.base}/readyz", timeout=3).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.5)
    return False


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.mark.skipif(not APISERVER.exists(), reason=f"{APISERVER} not built")
def test_apiserver_with_the_tenant_certificate_writes_only_under_its_prefix(etcd_datastore, new_tenant, tmp_path):
    tenant = new_tenant(etcd_datastore)
    driver = driver_for(etcd_datastore)
    conn = driver.provision(tenant)
    write_files(tmp_path, conn)
    port = free_port()
    proc = start_apiserver(tmp_path, conn=conn, prefix=conn.prefix, port=port)
    session = api(port)
    try:
        started = time.monotonic()
        assert wait_ready(proc, session, READY_TIMEOUT), (tmp_path / "apiserver.log").read_text()[-3000:]
        print(f"tenant apiserver ready in {time.monotonic() - started:.1f}s")
        reply = session.post(f"{session.base}/api/v1/namespaces", timeout=10,
                             json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "proof"}})
        assert reply.status_code == 201, reply.text
    finally:
        stop(proc)
    with driver.gateway() as etcd:
        assert b"proof" in etcd.get(f"{conn.prefix}/namespaces/proof")
        assert etcd.count_prefix("/registry/") == 0  # nothing landed outside the tenant's prefix
    assert driver.usage(tenant) > 10  # the apiserver's own bootstrap objects too


@pytest.mark.skipif(not APISERVER.exists(), reason=f"{APISERVER} not built")
def test_apiserver_with_another_tenants_certificate_cannot_use_the_prefix(etcd_datastore, new_tenant, tmp_path):
    a, b = new_tenant(etcd_datastore), new_tenant(etcd_datastore)
    driver = driver_for(etcd_datastore)
    conn_a, conn_b = driver.provision(a), driver.provision(b)
    write_files(tmp_path, conn_b)
    port = free_port()
    proc = start_apiserver(tmp_path, conn=conn_b, prefix=conn_a.prefix, port=port)  # b's identity, a's prefix
    try:
        assert not wait_ready(proc, api(port), 45.0)
    finally:
        stop(proc)
    assert "permission denied" in (tmp_path / "apiserver.log").read_text()
    assert driver.usage(a) == 0
