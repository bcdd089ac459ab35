"""From inside the management cluster: kine in a pod reaches the tenant's SQL slice with the DSN the driver gave.

This proves the servers listen where pods reach them (the bridge address), that the pod range may log in,
and that the DSN is in kine's own format: kine creates its table in the tenant's database and turns ready.
"""

import time

import pytest
from django.conf import settings
from kubernetes import client as k8s

from datastores.drivers import driver_for
from datastores.drivers.mysql import mysql_database_for
from datastores.drivers.postgresql import postgresql_name_for

pytestmark = [pytest.mark.cluster, pytest.mark.datastores, pytest.mark.django_db]

READY_TIMEOUT = 120.0


def run_kine(api_client, namespace: str, dsn: str) -> None:
    """A kine pod on `dsn`; returns once it is Ready (kine listens only after it reached its database)."""
    core = k8s.CoreV1Api(api_client)
    core.create_namespaced_pod(namespace, {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "kine"},
        "spec": {"restartPolicy": "Never", "containers": [{
            "name": "kine", "image": settings.KINE_IMAGE, "imagePullPolicy": "IfNotPresent",
            "args": [f"--endpoint={dsn}", "--listen-address=0.0.0.0:2379"],
            "readinessProbe": {"tcpSocket": {"port": 2379}, "periodSeconds": 1},
        }]},
    })
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        pod = core.read_namespaced_pod("kine", namespace)
        if pod.status.phase in ("Failed", "Succeeded"):
            break
        if any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or []):
            return
        time.sleep(1)
    try:
        logs = core.read_namespaced_pod_log("kine", namespace, tail_lines=30)
    except k8s.ApiException as exc:
        logs = str(exc)
    pytest.fail(f"kine did not become ready (phase {pod.status.phase}):\n{logs}")


def test_kine_in_a_pod_uses_the_tenants_postgresql_database(management_cluster, namespace, postgresql_datastore,
                                                             new_tenant):
    tenant = new_tenant(postgresql_datastore)
    driver = driver_for(postgresql_datastore)
    conn = driver.provision(tenant)
    run_kine(management_cluster.api_client(), namespace, conn.endpoints[0])
    import psycopg

    from localcluster import datastore_servers as servers

    with psycopg.connect(host="127.0.0.1", port=servers.POSTGRESQL_PORT, user=servers.POSTGRESQL_ADMIN,
                         password=servers.postgresql_admin_password(), dbname=postgresql_name_for(tenant)) as db:
        owner = db.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'kine'").fetchone()
    assert owner == (postgresql_name_for(tenant),)
    assert driver.usage(tenant) > 0


def test_kine_in_a_pod_uses_the_tenants_mysql_database(management_cluster, namespace, mysql_datastore, new_tenant):
    tenant = new_tenant(mysql_datastore)
    driver = driver_for(mysql_datastore)
    conn = driver.provision(tenant)
    run_kine(management_cluster.api_client(), namespace, conn.endpoints[0])
    with driver.admin_connection() as db, db.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = 'kine'",
                    (mysql_database_for(tenant),))
        assert cur.fetchone() == (1,)


def test_the_nats_server_serves_kines_jetstream_backend_to_pods(management_cluster, namespace, nats_server):
    """No NATS driver yet, but the server is ready for one: kine keeps its data in a JetStream bucket."""
    from localcluster import datastore_servers as servers

    bucket = f"kui-test-{namespace}"
    dsn = (f"nats://{servers.NATS_ADMIN}:{servers.nats_admin_password()}@{servers.HOST}:{servers.NATS_PORT}"
           f"?bucket={bucket}")
    run_kine(management_cluster.api_client(), namespace, dsn)
    streams = servers.NATS_DIR / "jetstream" / "jetstream" / "$G" / "streams"
    assert (streams / f"KV_{bucket}").is_dir()
    k8s.CoreV1Api(management_cluster.api_client()).delete_namespaced_pod("kine", namespace, grace_period_seconds=0)
    assert nats_request(f"$JS.API.STREAM.DELETE.KV_{bucket}")["success"] is True
    assert not (streams / f"KV_{bucket}").exists()


def nats_request(subject: str) -> dict:
    """One request over the NATS text protocol as the admin: publish with a reply inbox, read the answer."""
    import json
    import socket

    from localcluster import datastore_servers as servers

    login = json.dumps({"user": servers.NATS_ADMIN, "pass": servers.nats_admin_password(), "verbose": False})
    with socket.create_connection((servers.HOST, servers.NATS_PORT), timeout=10) as sock:
        stream = sock.makefile("rb")
        assert stream.readline().startswith(b"INFO ")
        sock.sendall(f"CONNECT {login}\r\nSUB _INBOX.kui 1\r\nPUB {subject} _INBOX.kui 0\r\n\r\n".encode())
        while not (line := stream.readline()).startswith(b"MSG "):
            assert not line.startswith(b"-ERR"), line
        size = int(line.split()[-1])
        return json.loads(stream.read(size))
