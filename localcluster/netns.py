"""The node's network namespace: every address of the local cluster lives in it, none on the machine.

`kui-node` holds the bridge, the pod and service networks, kube-proxy's and the isolation rules
and the per-namespace sysctls; the machine's own (root) namespace gets none of them. Processes
join it by thread: `enter()` moves the calling thread (and so every thread and process it starts
afterwards), `inside()` does so for a block. The machine's namespace is pinned as `kui-host` when
`kui-node` is made, because pid 1's namespace is not readable here; the forwarder
(`localcluster/forwarder.py`) runs there and `on_host()` lets a test act as a user of the machine.

Worker hosts (`add_host`) are namespaces of the same kind, `kui-h-<name>`, each with one veth
onto the node's bridge and an address from network.WORKER_HOST_RANGE: the one mechanism for
"a host on this machine", for the node and for every worker that joins a tenant cluster.

Network namespaces are per thread in Linux (setns(2) with CLONE_NEWNET changes only the caller),
and a socket belongs to the namespace it was created in for all its life.
"""

import contextlib
import ctypes
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

NAME = "kui-node"
HOST_NAME = "kui-host"
NETNS_DIR = Path("/run/netns")
PATH = NETNS_DIR / NAME
HOST_PATH = NETNS_DIR / HOST_NAME
CLONE_NEWNET = 0x40000000
WORKER_PREFIX = "kui-h-"
# Beside the run dir (which start wipes): says that /run/netns became a mount point because of us.
DIR_MOUNT_MARKER = Path("/run/kamaji-ui-localcluster.netns-dir")

_libc = ctypes.CDLL(None, use_errno=True)


def _setns(path: Path | str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({path}): {os.strerror(err)}")
    finally:
        os.close(fd)


def _inode(path: Path | str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def current() -> Path:
    """The calling thread's network namespace (not /proc/self: that is the process's main thread)."""
    return Path("/proc/thread-self/ns/net")


def _is_namespace(path: Path) -> bool:
    """A name that really holds a namespace (nsfs), not the empty file a killed `ip netns add` leaves."""
    try:
        return os.stat(path).st_dev == os.stat(current()).st_dev
    except OSError:
        return False


def exists() -> bool:
    return _is_namespace(PATH)


def host_pinned() -> bool:
    return _is_namespace(HOST_PATH)


def is_inside() -> bool:
    return exists() and _inode(current()) == _inode(PATH)


def _is_mount_point(path: Path) -> bool:
    """From mountinfo: os.path.ismount misses a directory bind-mounted onto itself."""
    points = (line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines())
    return str(path) in points


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def ensure() -> None:
    """Make `kui-node` (with loopback up) unless it exists; pin the machine's namespace as `kui-host`.

    Must first be called from the machine's namespace: nothing can be inside `kui-node` before it exists.
    """
    if not exists():
        _add_namespace(NAME)
    if not _is_namespace(HOST_PATH) and not is_inside():
        HOST_PATH.touch()
        subprocess.run(["mount", "--bind", str(current()), str(HOST_PATH)], check=True, capture_output=True)


def _add_namespace(name: str) -> None:
    if not _is_mount_point(NETNS_DIR):
        DIR_MOUNT_MARKER.touch()  # `ip netns add` is about to mount /run/netns: stop unmounts it again
    (NETNS_DIR / name).unlink(missing_ok=True)
    _ip("netns", "add", name)
    _ip("-n", name, "link", "set", "lo", "up")


def enter() -> None:
    """Move the calling thread into `kui-node` (made if missing); a no-op when it is there already."""
    ensure()
    if not is_inside():
        _setns(PATH)


@contextlib.contextmanager
def inside() -> Iterator[None]:
    """Run a block in `kui-node`; the thread goes back to where it was afterwards."""
    with _switched(PATH, ensure_node=True):
        yield


@contextlib.contextmanager
def on_host() -> Iterator[None]:
    """Run a block in the machine's own namespace, as a user of the machine would (tests)."""
    if not _is_namespace(HOST_PATH):
        raise RuntimeError(f"{HOST_PATH} is not pinned: start the local cluster from the machine's namespace")
    with _switched(HOST_PATH, ensure_node=False):
        yield


@contextlib.contextmanager
def _switched(target: Path, *, ensure_node: bool) -> Iterator[None]:
    back = os.open(current(), os.O_RDONLY | os.O_CLOEXEC)
    try:
        if ensure_node:
            ensure()
        same = _inode(current()) == _inode(target)
        if not same:
            _setns(target)
        try:
            yield
        finally:
            if not same and _libc.setns(back, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back to the previous network namespace")
    finally:
        os.close(back)


def delete() -> None:
    """Remove every name of ours, worker hosts first (a namespace goes once no process is left in it)."""
    for name in worker_names():
        remove_host(name)
    if PATH.exists():
        subprocess.run(["ip", "netns", "delete", NAME], capture_output=True)
        PATH.unlink(missing_ok=True)
    if HOST_PATH.exists():
        subprocess.run(["umount", str(HOST_PATH)], capture_output=True)
        HOST_PATH.unlink(missing_ok=True)
    if DIR_MOUNT_MARKER.exists() and NETNS_DIR.is_dir() and not any(NETNS_DIR.iterdir()):
        while _is_mount_point(NETNS_DIR):  # `ip netns add` mounts it onto itself (once or more)
            if subprocess.run(["umount", str(NETNS_DIR)], capture_output=True).returncode != 0:
                break
        with contextlib.suppress(OSError):
            NETNS_DIR.rmdir()
        DIR_MOUNT_MARKER.unlink(missing_ok=True)


def names_left() -> list[str]:
    """Our namespace names (and the /run/netns mount we caused) still present; empty after `stop`."""
    left = [str(p) for p in (PATH, HOST_PATH) if p.exists()] + [str(NETNS_DIR / n) for n in worker_names()]
    if DIR_MOUNT_MARKER.exists() and _is_mount_point(NETNS_DIR):
        left.append(f"{NETNS_DIR} (mount)")
    return left


def nsenter_host(argv: list[str]) -> list[str]:
    """A command line that runs argv in the machine's namespace (for the forwarder daemon)."""
    return ["nsenter", f"--net={HOST_PATH}", "--", *argv]


# -- worker hosts: more hosts on this machine, on the node's bridge ---------------------------------

class MachineHost:
    """A host on this machine: a network namespace with one interface (eth0) on the node's bridge."""

    def __init__(self, name: str):
        if not name or len(name) > 10 or not name.replace("-", "").isalnum():
            raise ValueError(f"host name {name!r}: 1-10 letters, digits or dashes (it names a veth)")
        self.name = name
        self.netns = WORKER_PREFIX + name
        self.path = NETNS_DIR / self.netns
        self.node_link = f"kuih-{name}"  # its veth's end on the node's bridge

    def exists(self) -> bool:
        return _is_namespace(self.path)

    def address(self) -> str | None:
        out = subprocess.run(["ip", "-n", self.netns, "-4", "-o", "addr", "show", "dev", "eth0"],
                             capture_output=True, text=True).stdout.split()
        return out[3].split("/")[0] if len(out) > 3 else None

    @contextlib.contextmanager
    def inside(self) -> Iterator[None]:
        with _switched(self.path, ensure_node=False):
            yield

    def nsenter(self, argv: list[str]) -> list[str]:
        return ["nsenter", f"--net={self.path}", "--", *argv]


def add_host(name: str, address: str) -> MachineHost:
    """Make (or find) host `name` with `address` on the node's bridge; idempotent."""
    from . import network

    host = MachineHost(name)
    if not network.in_worker_range(address):
        raise ValueError(f"{address} is outside the worker hosts' range {network.WORKER_HOST_RANGE}")
    if not exists():
        raise RuntimeError("the node's namespace does not exist: start the local cluster first")
    if not host.exists():
        _add_namespace(host.netns)
    if subprocess.run(["ip", "-n", NAME, "link", "show", host.node_link], capture_output=True).returncode != 0:
        _ip("-n", NAME, "link", "add", host.node_link, "type", "veth", "peer", "name", "eth0", "netns", host.netns)
    _ip("-n", NAME, "link", "set", host.node_link, "master", network.BRIDGE, "up")
    if host.address() != address:
        prefix = network.NODE_POD_CIDR.split("/")[1]
        _ip("-n", host.netns, "addr", "flush", "dev", "eth0")
        _ip("-n", host.netns, "addr", "add", f"{address}/{prefix}", "dev", "eth0")
    _ip("-n", host.netns, "link", "set", "eth0", "up")
    return host


def remove_host(name: str) -> None:
    """Delete host `name`: its namespace and so its veth (processes in it must be stopped first)."""
    host = MachineHost(name)
    if exists():
        subprocess.run(["ip", "-n", NAME, "link", "delete", host.node_link], capture_output=True)
    if host.path.exists():
        subprocess.run(["ip", "netns", "delete", host.netns], capture_output=True)
        host.path.unlink(missing_ok=True)


def worker_names() -> list[str]:
    """The worker hosts that exist (by their names, without the prefix)."""
    if not NETNS_DIR.is_dir():
        return []
    return sorted(p.name.removeprefix(WORKER_PREFIX) for p in NETNS_DIR.glob(WORKER_PREFIX + "*"))
