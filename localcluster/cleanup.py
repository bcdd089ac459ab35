"""Find and remove what a cluster leaves on the machine: processes, mounts, links, cgroups, chains.

`leftovers()` lists them (empty after a clean stop); `remove_leftovers()` removes them, and is
what `start` runs first, so a cluster killed with kill -9 (containerd, kubelet, shims and all)
never blocks the next start. Processes are only ever ours: the pids in our pid files, our
daemons' binaries running with our state paths on their command line, and whatever runs in
kubelet's `kubepods` cgroups.
"""

import contextlib
import shutil
import subprocess
import time
from pathlib import Path

from . import components, daemons, firewall, netns, network, paths

CGROUP_ROOT = Path("/sys/fs/cgroup")
KUBEPODS = "kubepods"
RUNTIME_BINARIES = ("/usr/bin/containerd", "/usr/bin/containerd-shim-runc-v2", "/usr/sbin/runc")
NETNS_DIRS = (Path("/run/netns"), Path("/var/run/netns"))
# What a fresh start wipes (the image store, CONTAINERD_ROOT, is kept).
NODE_STATE_DIRS = (paths.PKI, paths.KUBECONFIGS, paths.CONFIG, paths.LOGS, paths.ETCD_DATA, paths.KUBELET_ROOT,
                   paths.CNI)


def _owned_roots() -> tuple[str, ...]:
    """The node's own directories. Not all of paths.STATE: other parts (the datastore servers) live there too."""
    return tuple(str(p) for p in (paths.RUN, *NODE_STATE_DIRS, paths.CONTAINERD_ROOT))


def _is_under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root + "/") for root in roots)


# -- processes ---------------------------------------------------------------------------------

def kubepods_cgroups() -> list[Path]:
    """Every kubepods cgroup directory in every hierarchy, deepest first."""
    found = []
    for hierarchy in CGROUP_ROOT.iterdir() if CGROUP_ROOT.exists() else ():
        top = hierarchy / KUBEPODS
        if top.is_dir():
            found += [top, *(p for p in top.rglob("*") if p.is_dir())]
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def kubepods_pids() -> set[int]:
    pids: set[int] = set()
    for cgroup in kubepods_cgroups():
        try:
            pids.update(int(line) for line in (cgroup / "cgroup.procs").read_text().split())
        except OSError:
            continue
    return pids


def _runs_our_binary(pid: int) -> bool:
    """A node binary (ours or the runtime's) whose command line names our state or run dir."""
    try:
        exe = Path(f"/proc/{pid}/exe").readlink().as_posix().removesuffix(" (deleted)")
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return False
    ours = exe in RUNTIME_BINARIES or _is_under(exe, (str(paths.BIN),)) or components.FORWARDER_MODULE in cmdline
    # Flags come as "--flag=/path" or "--flag /path"; a path counts only if it is inside one of our dirs.
    return ours and any(_is_under(arg.rpartition("=")[2], _owned_roots()) for arg in cmdline)


def node_pids() -> set[int]:
    """Every process of the node: daemons, containerd shims, runc, and pod processes."""
    pids = {pid for d in components.daemons() if (pid := d.pid()) is not None}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _runs_our_binary(int(entry.name)):
            pids.add(int(entry.name))
    pids |= kubepods_pids()
    return {pid for pid in pids if daemons.process_start_time(pid) is not None}


def describe(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        cmd = "?"
    return f"{pid} {cmd[:120].strip()}"


def kill_node_processes() -> None:
    for _ in range(3):  # a dying shim can leave a child behind for a moment
        pids = node_pids()
        if not pids:
            return
        daemons.kill_and_wait(sorted(pids), timeout=3, sig=9)
    for d in components.daemons():
        d.pid_file.unlink(missing_ok=True)


# -- mounts, network namespaces, links, cgroups ----------------------------------------------

def _unescape(field: str) -> str:
    return field.encode().decode("unicode_escape") if "\\" in field else field


def node_mounts() -> list[str]:
    """Mount points in our state/run dirs and in /run/netns/cni-*, deepest first."""
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = _unescape(line.split()[4])
        if _is_under(point, _owned_roots()) or any(point.startswith(f"{d}/cni-") for d in NETNS_DIRS):
            points.append(point)
    return sorted(set(points), key=lambda p: p.count("/"), reverse=True)


def unmount_all() -> None:
    for _ in range(5):  # kubelet's root dir is bind-mounted onto itself: some points are stacked
        points = node_mounts()
        if not points:
            return
        for point in points:
            if subprocess.run(["umount", point], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", point], capture_output=True)


def stale_netns_files() -> list[Path]:
    return [p for d in NETNS_DIRS if d.is_dir() for p in d.glob("cni-*")]


def node_links() -> list[str]:
    """The bridge and any interface still enslaved to it."""
    links = []
    if network.ip("link", "show", network.BRIDGE, check=False).returncode == 0:
        links.append(network.BRIDGE)
        out = network.ip("-o", "link", "show", "master", network.BRIDGE, check=False).stdout
        links += [line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line]
    return links


def remove_links() -> None:
    for link in reversed(node_links()):
        network.ip("link", "delete", link, check=False)


def _networks() -> list[tuple[str, contextlib.AbstractContextManager]]:
    """Where links and chains of ours can be: the node's namespace (if it exists) and the machine's
    (an older layout put the node there), each with the switch that runs a block in it."""
    found = []
    if netns.exists():
        found.append(("node", netns.inside()))
    if netns.host_pinned():
        found.append(("host", netns.on_host()))
    elif not netns.is_inside():
        found.append(("host", contextlib.nullcontext()))
    return found


def network_leftovers() -> dict[str, list[str]]:
    links, chains = [], []
    for where, switch in _networks():
        with switch:
            links += [f"{where}:{link}" for link in node_links()]
            chains += [f"{where}:{chain}" for chain in firewall.owned_chains()]
    return {"links": links, "iptables": chains}


def remove_network_leftovers() -> None:
    for _where, switch in _networks():
        with switch:
            remove_links()
            firewall.remove_owned_chains()


def remove_cgroups() -> None:
    for cgroup in kubepods_cgroups():
        with contextlib.suppress(OSError):
            cgroup.rmdir()


# -- all of it --------------------------------------------------------------------------------

def leftovers(*, namespace_counts: bool = True) -> dict[str, list[str]]:
    """Everything of the node still on the machine, by kind; every list is empty after `stop`.

    Links and chains are looked for in the node's namespace and in the machine's; the node's
    namespace itself counts unless namespace_counts is false (start cleans up inside it)."""
    found = {
        "processes": [describe(pid) for pid in sorted(node_pids())],
        "mounts": node_mounts(),
        "netns": [str(p) for p in stale_netns_files()] + (netns.names_left() if namespace_counts else []),
        "cgroups": [str(p) for p in kubepods_cgroups()],
        **network_leftovers(),
    }
    return {kind: items for kind, items in found.items() if items}


def remove_tree(path: Path) -> None:
    """rm -r, refusing to descend into anything still mounted below path."""
    if any(_is_under(point, (str(path),)) for point in node_mounts()):
        raise RuntimeError(f"refusing to remove {path}: something is still mounted below it")
    shutil.rmtree(path, ignore_errors=True)


def wipe_state() -> None:
    """Remove the runtime state of a previous cluster, keeping the image store and the sysctl record
    (and whatever else lives in paths.STATE: only the node's own directories go)."""
    for path in (*NODE_STATE_DIRS, paths.RUN):
        if path.exists():
            remove_tree(path)
    paths.KUBECONFIG.unlink(missing_ok=True)


def remove_leftovers() -> None:
    """Remove every trace of a cluster that was killed rather than stopped. Order matters: processes
    hold mounts and namespaces, mounts hold the links' namespaces, empty cgroups go last."""
    started = time.monotonic()
    kill_node_processes()
    unmount_all()
    for stale in stale_netns_files():
        stale.unlink(missing_ok=True)
    for worker in netns.worker_names():  # a fresh node starts with no worker hosts
        netns.remove_host(worker)
    remove_network_leftovers()
    remove_cgroups()
    left = leftovers(namespace_counts=False)
    if left:
        raise RuntimeError(f"could not remove: {left}")
    print(f"  cleaned leftovers in {time.monotonic() - started:.1f}s", flush=True)
