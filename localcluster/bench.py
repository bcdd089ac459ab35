"""python -m localcluster.bench [--fresh]: build time cold and warm, start time, idle node memory.

- cold build: recorded by the last build that compiled anything (paths.CACHE/.build-seconds, and
  per module bin/<module>/.build-seconds); measuring it again means emptying an 11 GB cache.
- warm build: `build_all()` plus the image archives, timed now (everything current: a no-op).
- start: with --fresh, or when no cluster runs, a stop (if needed) and a fresh start, timed
  now; otherwise the cluster is shared and left alone: the time of its own fresh start
  (recorded by `start`) and the time `start` takes to find it up.
- memory: the resident set of every process of the node (daemons, shims, pods), idle.

Bounded: a fresh start has its own timeouts (~5 min at worst); nothing else waits.
"""

import json
import sys
import time
from pathlib import Path

from . import build, cleanup, cluster, images, paths


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def process_name(pid: int) -> str:
    try:
        argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return "?"
    return Path(argv0).name


def node_memory() -> dict[str, int]:
    """MiB of resident memory per process kind (daemons by name; pods' processes under "pods")."""
    pod_pids = cleanup.kubepods_pids()
    by_kind: dict[str, int] = {}
    for pid in cleanup.node_pids():
        kind = "pods" if pid in pod_pids else process_name(pid)
        by_kind[kind] = by_kind.get(kind, 0) + rss_kib(pid)
    return {kind: round(kib / 1024) for kind, kib in sorted(by_kind.items())}


def recorded_seconds(path: Path) -> float | None:
    try:
        return float(path.read_text())
    except (OSError, ValueError):
        return None


def main(argv: list[str]) -> int:
    fresh = "--fresh" in argv
    cold = recorded_seconds(paths.CACHE / ".build-seconds")
    modules = {d.name: s for d in sorted(paths.BIN.iterdir()) if (s := recorded_seconds(d / ".build-seconds"))}
    print(f"build, cold: {cold:.0f} s" if cold else "build, cold: not recorded (no build has compiled here)")
    for name, seconds in modules.items():
        print(f"  {name}: {seconds:.0f} s")

    started = time.monotonic()
    build.build_all()
    images.write_archives()
    print(f"build, warm (no-op build + image archives): {time.monotonic() - started:.1f} s")

    if fresh or not cluster.is_running():
        if cluster.is_running():
            cluster.stop()
        started = time.monotonic()
        cluster.start()
        print(f"start, fresh (images already in containerd's store): {time.monotonic() - started:.1f} s")
    else:
        steps = json.loads(cluster.START_RECORD.read_text()) if cluster.START_RECORD.exists() else {}
        if steps:
            print(f"start, fresh (recorded by the running cluster's own start): {max(steps.values()):.1f} s")
        started = time.monotonic()
        cluster.start(quiet=True)
        print(f"start, cluster already up (reuse): {time.monotonic() - started:.2f} s")

    time.sleep(10)  # let the node settle: start-up work done, idle
    memory = node_memory()
    pods = memory.pop("pods", 0)
    detail = ", ".join(f"{kind} {mib}" for kind, mib in memory.items())
    print(f"node memory, idle: {sum(memory.values())} MiB resident in the node's processes ({detail})")
    print(f"  plus {pods} MiB in pods running now (workloads of tests, if any)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
