"""Kernel settings the node changes, recorded before the first start and put back by stop.

The network ones (IPv4 forwarding from the CNI bridge plugin, kube-proxy's route_localnet)
belong to the node's own namespace and vanish with it. kubelet also sets a few vm/kernel values,
which Linux does not namespace: those are recorded and restored. The record survives a kill -9
(it lives in paths.STATE and a fresh start never overwrites it), so the stop after a crash still
restores the originals. A record from the older layout (node in the machine's namespace) may
hold net.* values of the machine: restore writes back whatever the record holds.
"""

import json
from pathlib import Path

from . import paths

CHANGED_BY_NODE = (  # machine-wide (not per network namespace), so kubelet changes them for the machine
    "vm.overcommit_memory",
    "vm.panic_on_oom",
    "kernel.panic",
    "kernel.panic_on_oops",
    "kernel.keys.root_maxkeys",
    "kernel.keys.root_maxbytes",
)


def sysctl_path(name: str) -> Path:
    return Path("/proc/sys") / name.replace(".", "/")


def read(name: str) -> str | None:
    try:
        return sysctl_path(name).read_text().strip()
    except OSError:
        return None


def record_originals() -> None:
    """Remember the current values unless a record exists already (from before an unclean stop)."""
    if paths.SYSCTL_BEFORE.exists():
        return
    paths.SYSCTL_BEFORE.parent.mkdir(parents=True, exist_ok=True)
    values = {name: value for name in CHANGED_BY_NODE if (value := read(name)) is not None}
    paths.SYSCTL_BEFORE.write_text(json.dumps(values, indent=1) + "\n")


def restore_originals() -> dict[str, str]:
    """Write the recorded values back, forget the record; return what was changed."""
    if not paths.SYSCTL_BEFORE.exists():
        return {}
    changed = {}
    for name, value in json.loads(paths.SYSCTL_BEFORE.read_text()).items():
        if read(name) != value:
            sysctl_path(name).write_text(value + "\n")
            changed[name] = value
    paths.SYSCTL_BEFORE.unlink()
    return changed
