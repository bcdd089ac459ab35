"""Fan-out benchmark: N browsers on one cluster's live page, one change in the cluster.

    .venv/bin/python -m benchmarks.live_fanout            # N = 10, 100, 500
    .venv/bin/python -m benchmarks.live_fanout 10 50      # other N

Serves the app (embedded default: daphne, in-memory layer, watchers in the server) on its own
SQLite file, runs a stand-in tenant workload on the local management cluster, opens N
WebSocket clients with a signed-in session, scales the Deployment by one, and prints for each N
the delay from the watch event (the server stamps each update with the time its watch received
the change) to each client's receipt: p50, p99, max; and the watches: the WATCH requests the
management API server holds (its `apiserver_longrunning_requests{verb="WATCH"}` gauge, on the
kinds the app's informers watch and in all: other users of the shared cluster move these) and the TCP
connections the app server itself holds to the API server (`ss`, by its pid) -- neither grows
with N. Loopback and the local cluster only; every wait is bounded.
"""

import argparse
import asyncio
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

import os  # noqa: E402

import django  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kamaji_ui.settings")
django.setup()

import aiohttp  # noqa: E402  (a pinned dependency of kubernetes==37.0.2)
from kubernetes import client  # noqa: E402

from localcluster import testing as localcluster_testing  # noqa: E402
from tenants.informers import WATCHES  # noqa: E402
from tests.live import served_app, workload  # noqa: E402

CONNECT_CONCURRENCY = 25
CONNECT_TIMEOUT = 180  # seconds for all N clients to connect and get their snapshot
DELIVERY_TIMEOUT = 60  # seconds for the update to reach every client
OUR_KINDS = {(spec.group, spec.kind) for spec in WATCHES}
STAMP = re.compile(r'id="live-stamp"[^>]*data-event-at="([0-9.]+)"')
WATCH_METRIC = re.compile(r'^apiserver_longrunning_requests\{([^}]*)\} (\S+)$', re.M)


def watch_counts(api: client.ApiClient) -> tuple[int, int]:
    """(WATCH requests across namespaces on the kinds the informers watch, all WATCH requests)."""
    method, url, headers, _body, _post = api.param_serialize("GET", "/metrics", auth_settings=["BearerToken"])
    response = api.call_api(method, url, header_params=headers, _request_timeout=30)
    response.read()
    text = response.data.decode()
    ours = total = 0
    for labels, value in WATCH_METRIC.findall(text):
        fields = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        if fields.get("verb") != "WATCH":
            continue
        total += int(float(value))
        if (fields.get("group", ""), fields.get("resource")) in OUR_KINDS and fields.get("scope") == "cluster":
            ours += int(float(value))
    return ours, total


def connections_to_apiserver(pid: int, host: str) -> int:
    """TCP connections the server process holds to the management API server (its watch streams)."""
    out = subprocess.run(["ss", "-Htnp", "state", "established", "dst", host], capture_output=True, text=True,
                         timeout=10).stdout
    return sum(1 for line in out.splitlines() if f"pid={pid}," in line)


class Clients:
    def __init__(self, url: str, session_key: str, n: int, *, compress: int):
        self.url, self.n, self.compress = url, n, compress
        self.headers = {"Cookie": f"sessionid={session_key}", "Origin": url.replace("ws://", "http://").split("/ws")[0]}
        self.sockets: list[aiohttp.ClientWebSocketResponse] = []
        self.delays: list[float] = []
        self.armed_at: float | None = None
        self._got: asyncio.Event = asyncio.Event()
        self._readers: list[asyncio.Task] = []

    async def open(self, http: aiohttp.ClientSession) -> None:
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def one():
            async with gate:
                ws = await http.ws_connect(self.url, headers=self.headers, heartbeat=None, max_msg_size=0,
                                           compress=self.compress)
                snapshot = await ws.receive(timeout=60)
                if snapshot.type != aiohttp.WSMsgType.TEXT or 'id="pods"' not in snapshot.data:
                    raise RuntimeError(f"no snapshot: {snapshot}")
                self.sockets.append(ws)

        await asyncio.wait_for(asyncio.gather(*(one() for _ in range(self.n))), CONNECT_TIMEOUT)
        self._readers = [asyncio.create_task(self._read(ws)) for ws in self.sockets]

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        measured = False
        async for message in ws:
            received = time.time()
            if measured or self.armed_at is None or message.type != aiohttp.WSMsgType.TEXT:
                continue
            stamp = STAMP.search(message.data)
            if stamp and 'id="pods"' in message.data and float(stamp.group(1)) >= self.armed_at:
                self.delays.append(received - float(stamp.group(1)))
                measured = True
                if len(self.delays) == self.n:
                    self._got.set()

    async def wait_all(self) -> None:
        await asyncio.wait_for(self._got.wait(), DELIVERY_TIMEOUT)

    async def close(self) -> None:
        for ws in self.sockets:
            await ws.close()
        for task in self._readers:
            task.cancel()


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


async def run_one(n: int, *, app, seeded, api, replicas: int, compress: int) -> dict:
    apiserver = api.configuration.host.split("//", 1)[1]
    ws_url = f"{app.url.replace('http://', 'ws://')}/ws/clusters/{seeded['tenant_pk']}/"
    # No connector limit: aiohttp would otherwise hold back every socket past the 100th.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        clients = Clients(ws_url, seeded["session"], n, compress=compress)
        started = time.monotonic()
        await clients.open(http)
        connect_seconds = time.monotonic() - started
        await asyncio.sleep(1)  # let the server finish sending snapshots before the change
        watches_before = await asyncio.to_thread(watch_counts, api)
        clients.armed_at = time.time()
        await asyncio.to_thread(
            client.AppsV1Api(api).patch_namespaced_deployment_scale, seeded["name"], seeded["namespace"],
            {"spec": {"replicas": replicas}},
        )
        await clients.wait_all()
        watches_after = await asyncio.to_thread(watch_counts, api)
        server_streams = connections_to_apiserver(app.process.pid, apiserver)
        await clients.close()
    delays_ms = [d * 1000 for d in clients.delays]
    return {
        "n": n, "received": len(delays_ms), "connect_s": connect_seconds,
        "p50": percentile(delays_ms, 50), "p99": percentile(delays_ms, 99), "max": max(delays_ms),
        "watches": watches_after[0], "watches_before": watches_before[0], "all_watches": watches_after[1],
        "server_streams": server_streams,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("counts", nargs="*", type=int, default=[10, 100, 500])
    parser.add_argument("--no-compression", action="store_true",
                        help="do not offer permessage-deflate (browsers do)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so that `finally` stops the server and cleans up

    cluster = localcluster_testing.ensure_management_cluster()
    api = cluster.api_client()
    workdir = Path(tempfile.mkdtemp(prefix="kui-live-bench-"))
    pk, name = random.randint(900_000, 999_999), f"bench-{uuid.uuid4().hex[:6]}"
    env = served_app.app_env(workdir, KUBECONFIG=str(cluster.kubeconfig), LOG_LEVEL="WARNING")
    seeded = {**served_app.prepare_database(env, tenant_pk=pk, name=name), "name": name}
    app = None
    try:
        workload.create(api, tenant_pk=pk, namespace=seeded["namespace"], name=name, replicas=1, ready_delay=1)
        workload.wait_ready(api, seeded["namespace"], 1)
        baseline = watch_counts(api)
        app = served_app.serve(env, workdir=workdir)
        print(f"server {app.url} (pid {app.process.pid}), namespace {seeded['namespace']}", flush=True)
        print(f"WATCH requests before the server started: {baseline[0]} on the {len(WATCHES)} informer kinds, "
              f"{baseline[1]} in all", flush=True)
        print(f"{'N':>5} {'got':>5} {'connect s':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
              f"{'kinds WATCH':>11} {'all WATCH':>9} {'server conns':>12}", flush=True)
        replicas = 1
        for n in args.counts:
            replicas = 2 if replicas == 1 else 1  # alternate: every run is a real change
            r = asyncio.run(run_one(n, app=app, seeded=seeded, api=api, replicas=replicas,
                                    compress=0 if args.no_compression else 15))
            print(f"{r['n']:>5} {r['received']:>5} {r['connect_s']:>9.1f} {r['p50']:>8.1f} {r['p99']:>8.1f} "
                  f"{r['max']:>8.1f} {r['watches']:>11} {r['all_watches']:>9} {r['server_streams']:>12}", flush=True)
    finally:
        if app:
            app.stop()
        workload.delete(api, seeded["namespace"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
