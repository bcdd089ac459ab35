"""Hand-off from request handlers to the controller: "reconcile tenant N soon".

In the embedded default the controller runs in the same process and takes keys from this queue
right away. A controller in its own process does not see this queue; it finds the same work by
its periodic look at the database (generation != observed_generation, phase Deleting) — so the
queue is a latency optimisation, never the only source of truth.
"""

import queue

_pending: "queue.Queue[int]" = queue.Queue()


def reconcile_soon(pk: int) -> None:
    _pending.put(pk)


def next_key(timeout: float | None = None) -> int | None:
    """The next tenant pk to reconcile, or None after `timeout` seconds without one."""
    try:
        return _pending.get(timeout=timeout)
    except queue.Empty:
        return None
