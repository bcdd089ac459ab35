"""Follow one container's log into a bounded buffer, only while someone has the panel open.

One follower per (namespace, pod, container) however many panels show it; the stream is
closed when the last subscriber leaves.
"""

import logging
import threading
from collections import deque
from collections.abc import Callable

from kubernetes import client
from kubernetes.watch.watch import iter_resp_lines

log = logging.getLogger(__name__)

# on_update(lines, error): the buffer's current lines (a copy) and an error text ("" when fine).
UpdateCallback = Callable[[list[str], str], None]
Key = tuple[str, str, str]


class LogFollower(threading.Thread):
    def __init__(self, *, api_client: client.ApiClient, namespace: str, pod: str, container: str,
                 max_lines: int, tail_lines: int):
        super().__init__(name=f"live-log-{pod}-{container}", daemon=True)
        self.key: Key = (namespace, pod, container)
        self._core = client.CoreV1Api(api_client)
        self.lines: deque[str] = deque(maxlen=max_lines)
        self._tail = tail_lines
        self._lock = threading.Lock()
        self._subscribers: list[UpdateCallback] = []
        self._stopping = threading.Event()
        self._resp = None
        self.error = ""

    def subscribe(self, callback: UpdateCallback) -> None:
        with self._lock:
            self._subscribers.append(callback)
            lines = list(self.lines)
        callback(lines, self.error)

    def unsubscribe(self, callback: UpdateCallback) -> bool:
        """Remove a subscriber; True when none is left."""
        with self._lock:
            if callback in self._subscribers:
                self._subscribers.remove(callback)
            return not self._subscribers

    def _notify(self) -> None:
        with self._lock:
            lines, subscribers = list(self.lines), list(self._subscribers)
        for callback in subscribers:
            callback(lines, self.error)

    def run(self) -> None:
        namespace, pod, container = self.key
        try:
            resp = self._core.read_namespaced_pod_log(
                pod, namespace, container=container, follow=True, tail_lines=self._tail,
                _preload_content=False,
            )
            self._resp = resp
            try:
                for line in iter_resp_lines(resp):
                    if self._stopping.is_set():
                        return
                    with self._lock:
                        self.lines.append(line)
                    self._notify()
            finally:
                self._resp = None
                resp.release_conn()
        except Exception as exc:
            if self._stopping.is_set():
                return
            self.error = getattr(exc, "reason", None) or str(exc)
            log.info("log %s/%s/%s: %s", namespace, pod, container, self.error)
        if not self._stopping.is_set():
            self.error = self.error or "The log stream ended (the container stopped)."
            self._notify()

    def stop(self) -> None:
        self._stopping.set()
        resp = self._resp
        if resp is not None:
            resp.shutdown()


_lock = threading.Lock()
_followers: dict[Key, LogFollower] = {}


class Subscription:
    def __init__(self, follower: LogFollower, callback: UpdateCallback):
        self._follower, self._callback = follower, callback
        self._closed = False

    def close(self) -> None:
        """Stop receiving; the last subscriber to leave ends the stream."""
        if self._closed:
            return
        self._closed = True
        with _lock:
            if self._follower.unsubscribe(self._callback):
                if _followers.get(self._follower.key) is self._follower:
                    del _followers[self._follower.key]
                self._follower.stop()


def follow(*, api_client: client.ApiClient, namespace: str, pod: str, container: str, on_update: UpdateCallback,
           max_lines: int, tail_lines: int = 100) -> Subscription:
    """Subscribe to a container's log (shared follower); call `.close()` when the panel closes."""
    key = (namespace, pod, container)
    with _lock:
        follower = _followers.get(key)
        if follower is None or not follower.is_alive():  # none yet, or its stream ended: start afresh
            follower = LogFollower(api_client=api_client, namespace=namespace, pod=pod, container=container,
                                   max_lines=max_lines, tail_lines=tail_lines)
            _followers[key] = follower
            follower.start()
        follower.subscribe(on_update)
    return Subscription(follower, on_update)


def active_followers() -> list[Key]:
    with _lock:
        return list(_followers)
