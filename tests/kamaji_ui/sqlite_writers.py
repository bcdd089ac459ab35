"""Concurrent writers on one SQLite file through the product's own write paths (run as a script).

    python -m tests.kamaji_ui.sqlite_writers DB_PATH [--threads N] [--rounds R]

Migrates the file, then N threads each do R rounds of what the served app does at once: the
API's create and update services (read-then-write transactions with an audit row) and the
controller's status save (a transaction that reads the row, then writes it). Prints one JSON
line: {"writes": .., "lock_errors": .., "other_errors": [..], "seconds": ..}. No Kubernetes,
no network: `TenantReconcile.save` writes only the database.
"""

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("--threads", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    os.environ["DATABASE_URL"] = f"sqlite:///{Path(args.db).resolve()}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kamaji_ui.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import OperationalError, connection

    from tenants.services import lifecycle
    from tenants.services.reconcile import TenantReconcile
    from tests.factories import make_org, make_user

    call_command("migrate", verbosity=0)
    org = make_org()
    owner = make_user(role="owner", org=org)
    connection.close()

    counts = {"writes": 0, "lock_errors": 0}
    others: list[str] = []
    guard = threading.Lock()
    start = threading.Barrier(args.threads)

    def writer(i: int) -> None:
        start.wait()
        try:
            for r in range(args.rounds):
                try:
                    tenant = lifecycle.tenant_create(organization=org, by=owner, name=f"w{i}-{r}")
                    lifecycle.tenant_update(tenant=tenant, by=owner, replicas=2)
                    run = TenantReconcile(tenant, kube=None)
                    run.tenant.set_condition("Ready", False, "Waiting", f"round {r}")
                    run.save()
                    with guard:
                        counts["writes"] += 3
                except OperationalError as exc:
                    with guard:
                        if "locked" in str(exc):
                            counts["lock_errors"] += 1
                        else:
                            others.append(repr(exc))
                except Exception as exc:  # reported, never swallowed: the test asserts there is none
                    with guard:
                        others.append(repr(exc))
        finally:
            connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    print(json.dumps({**counts, "other_errors": others[:5], "seconds": round(time.monotonic() - started, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
