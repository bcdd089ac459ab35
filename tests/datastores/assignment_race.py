"""Run by test_assignment_race in a process of its own, on the app database named by DATABASE_URL.

Migrates, makes one datastore with `--capacity` places and `--tenants` tenants, then assigns all tenants at
once from as many threads (each with its own database connection). Prints a JSON summary.
"""

import argparse
import json
import threading

import django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--capacity", type=int, required=True)
    parser.add_argument("--tenants", type=int, required=True)
    args = parser.parse_args()
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tenants.services.datastore_assignment import NoDatastoreAvailable, assign_datastore
    from tests.factories import make_datastore, make_org, make_tenant

    call_command("migrate", verbosity=0, interactive=False)
    datastore = make_datastore(name="race", max_tenants=args.capacity)
    org = make_org()
    tenants = [make_tenant(org=org) for _ in range(args.tenants)]
    connection.close()

    start = threading.Barrier(len(tenants))
    outcome: dict[str, int] = {"assigned": 0, "refused": 0, "errors": 0}
    lock = threading.Lock()

    def assign(tenant) -> None:
        from django.db import connection as thread_connection

        start.wait()
        try:
            assign_datastore(tenant)
            key = "assigned"
        except NoDatastoreAvailable:
            key = "refused"
        except Exception:  # counted and reported: the test asserts there are none
            key = "errors"
        finally:
            thread_connection.close()
        with lock:
            outcome[key] += 1

    threads = [threading.Thread(target=assign, args=(t,)) for t in tenants]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcome["on_datastore"] = datastore.tenants.count()
    print(json.dumps(outcome))


if __name__ == "__main__":
    main()
