"""API throughput benchmark: requests per second for list, detail and create, on SQLite and PostgreSQL.

    .venv/bin/python -m benchmarks.api_load                          # both databases, 10 s per operation
    .venv/bin/python -m benchmarks.api_load --seconds 5 --clients 4 --databases sqlite

For each app database (a fresh SQLite file; a throwaway database on the local PostgreSQL server,
dropped afterwards) serves the real app (`manage.py serve --no-embedded`: daphne, no controller,
so a create measures the API and its transaction, not a tenant coming up), seeds an owner with a
token and ROWS clusters, then for each operation keeps `--clients` concurrent keep-alive clients
busy for `--seconds` and prints requests/s, p50/p99 latency and the answers that were not 2xx.
The clients share the machine's cores with the server. Loopback only; every phase is bounded.
"""

import argparse
import asyncio
import itertools
import random
import signal
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

import aiohttp  # noqa: E402  (a pinned dependency of kubernetes==37.0.2)

from localcluster import versions  # noqa: E402
from tests.api import served_api  # noqa: E402

ROWS = 100  # clusters in the list before measuring (two pages of 50)
OPERATIONS = ("list", "detail", "create")
REQUEST_TIMEOUT = 60


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


async def measure(app: served_api.ServedAPI, operation: str, *, clients: int, seconds: float,
                  pks: list[int]) -> dict:
    names = (f"b{uuid.uuid4().hex[:8]}-{i}" for i in itertools.count())
    latencies: list[float] = []
    failed: dict[int, int] = {}

    def request(http: aiohttp.ClientSession):
        if operation == "list":
            return http.get(f"{app.url}/api/clusters/")
        if operation == "detail":
            return http.get(f"{app.url}/api/clusters/{random.choice(pks)}/")
        return http.post(f"{app.url}/api/clusters/", json={
            "organization": app.org, "name": next(names), "kubernetes_version": versions.TENANT_VERSIONS[-1]})

    async def client(http: aiohttp.ClientSession, until: float) -> None:
        while time.monotonic() < until:
            started = time.monotonic()
            async with request(http) as response:
                await response.read()
                if response.status >= 300:
                    failed[response.status] = failed.get(response.status, 0) + 1
            latencies.append(time.monotonic() - started)

    headers = {"Authorization": f"Token {app.token}"}
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(headers=headers, timeout=timeout,
                                     connector=aiohttp.TCPConnector(limit=clients)) as http:
        started = time.monotonic()
        await asyncio.gather(*(client(http, started + seconds) for _ in range(clients)))
        elapsed = time.monotonic() - started
    ms = [s * 1000 for s in latencies]
    return {"operation": operation, "requests": len(ms), "rps": len(ms) / elapsed, "p50": percentile(ms, 50),
            "p99": percentile(ms, 99), "failed": failed}


async def seed_rows(app: served_api.ServedAPI) -> list[int]:
    headers = {"Authorization": f"Token {app.token}"}
    async with aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)) as http:
        pks = []
        for i in range(ROWS):
            async with http.post(f"{app.url}/api/clusters/", json={
                    "organization": app.org, "name": f"seed-{i}",
                    "kubernetes_version": versions.TENANT_VERSIONS[-1]}) as response:
                if response.status != 201:
                    raise RuntimeError(f"seeding: {response.status} {await response.text()}")
                pks.append((await response.json())["id"])
    return pks


def run_database(database: str, *, clients: int, seconds: float) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix=f"kui-api-bench-{database}-") as tmp, \
            served_api.app_database(database, Path(tmp)) as url:
        workdir = Path(tmp)
        app = served_api.serve(url, workdir=workdir, controller=False)
        try:
            pks = asyncio.run(seed_rows(app))
            return [{"database": database, **asyncio.run(measure(app, op, clients=clients, seconds=seconds,
                                                                 pks=pks))}
                    for op in OPERATIONS]
        finally:
            app.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", nargs="+", choices=served_api.DATABASES, default=list(served_api.DATABASES))
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients per operation")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each operation is measured")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so that `finally` stops the server and drops the db

    print(f"{args.clients} concurrent clients, {args.seconds:.0f} s per operation, {ROWS} clusters listed", flush=True)
    print(f"{'database':<11} {'operation':<9} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}  not 2xx",
          flush=True)
    for database in args.databases:
        for r in run_database(database, clients=args.clients, seconds=args.seconds):
            print(f"{r['database']:<11} {r['operation']:<9} {r['requests']:>8} {r['rps']:>7.1f} {r['p50']:>7.1f} "
                  f"{r['p99']:>7.1f}  {r['failed'] or '-'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
