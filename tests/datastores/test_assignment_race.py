"""Concurrent assignments never overfill a datastore: on a real PostgreSQL app database and on an SQLite file."""

import json
import os
import subprocess
import sys
import uuid

import psycopg
import pytest
from psycopg import sql

from localcluster import datastore_servers as servers

CAPACITY, TENANTS = 2, 8


def run_race(database_url: str) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "kamaji_ui.settings"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.datastores.assignment_race", f"--capacity={CAPACITY}", f"--tenants={TENANTS}"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.datastores
def test_concurrent_assignments_respect_capacity_on_postgresql(postgresql_server):
    name = f"kui_race_{uuid.uuid4().hex[:12]}"
    admin = dict(host="127.0.0.1", port=servers.POSTGRESQL_PORT, user=servers.POSTGRESQL_ADMIN,
                 password=servers.postgresql_admin_password(), autocommit=True)
    with psycopg.connect(dbname="postgres", **admin) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = (f"postgres://{servers.POSTGRESQL_ADMIN}:{servers.postgresql_admin_password()}"
               f"@127.0.0.1:{servers.POSTGRESQL_PORT}/{name}")
        outcome = run_race(url)
    finally:
        with psycopg.connect(dbname="postgres", **admin) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    assert outcome == {"assigned": CAPACITY, "refused": TENANTS - CAPACITY, "errors": 0, "on_datastore": CAPACITY}


def test_concurrent_assignments_respect_capacity_on_sqlite(tmp_path):
    outcome = run_race(f"sqlite:///{tmp_path / 'app.sqlite3'}")
    assert outcome == {"assigned": CAPACITY, "refused": TENANTS - CAPACITY, "errors": 0, "on_datastore": CAPACITY}
