"""SQLite under concurrent writers: the settings make writers wait, and a lock that still happens
replays the outermost transaction (kamaji_ui.db_locks)."""

import contextlib
import json
import sqlite3
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import OperationalError, transaction

from kamaji_ui.db_locks import ATTEMPTS, is_locked, retry_when_locked

THREADS, ROUNDS = 6, 15


def test_concurrent_service_and_status_writes_on_one_sqlite_file_never_fail(tmp_path):
    # Before IMMEDIATE transactions this mix failed 86 of 90 rounds with "database is locked".
    done = subprocess.run(
        [sys.executable, "-m", "tests.kamaji_ui.sqlite_writers", str(tmp_path / "db.sqlite3"),
         "--threads", str(THREADS), "--rounds", str(ROUNDS)],
        cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\n{result}")
    assert result["lock_errors"] == 0
    assert result["other_errors"] == []
    assert result["writes"] == THREADS * ROUNDS * 3
    # WAL mode is a property of the file (the -wal file itself goes when the last connection closes).
    with contextlib.closing(sqlite3.connect(tmp_path / "db.sqlite3")) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def flaky(failures: int):
    calls = []

    def run():
        calls.append(1)
        if len(calls) <= failures:
            raise OperationalError("database is locked")
        return len(calls)

    return run, calls


def test_a_locked_outermost_transaction_is_run_again():
    run, _ = flaky(ATTEMPTS - 1)
    assert retry_when_locked(run)() == ATTEMPTS


def test_a_lock_that_does_not_go_away_is_raised_after_the_last_attempt():
    run, calls = flaky(ATTEMPTS)
    with pytest.raises(OperationalError, match="locked"):
        retry_when_locked(run)()
    assert len(calls) == ATTEMPTS


def test_other_database_errors_are_not_retried():
    calls = []

    def broken():
        calls.append(1)
        raise OperationalError("no such table: tenants_tenantcontrolplane")

    with pytest.raises(OperationalError, match="no such table"):
        retry_when_locked(broken)()
    assert calls == [1]
    assert not is_locked(ValueError("locked"))


@pytest.mark.django_db
def test_inside_a_callers_transaction_nothing_is_replayed():
    run, calls = flaky(1)
    with transaction.atomic(), pytest.raises(OperationalError):
        retry_when_locked(run)()
    assert calls == [1]
