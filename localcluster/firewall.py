"""iptables: keep the cluster's traffic on the machine, and remove every chain the node made.

The CNI bridge plugin turns on IPv4 forwarding. Our own chains in the mangle table (which
kubelet and kube-proxy never touch, so their rules cannot be ordered before ours) make sure
the machine forwards nothing but bridge-to-bridge traffic, and that no packet from or to the
pod and service ranges leaves by any interface but the bridge or loopback.

Cleanup removes our KUI-* chains and the KUBE-* chains kubelet and kube-proxy create on their
own (filter, nat, mangle; IPv4 and IPv6), with one iptables-restore per table, jumps first.
"""

import re
import subprocess

from . import network

FORWARD_CHAIN = "KUI-ISOLATION-FORWARD"
EGRESS_CHAIN = "KUI-ISOLATION-EGRESS"
OWNED_PREFIXES = ("KUI-", "KUBE-")
FAMILIES = ("iptables", "ip6tables")
# nftables tables kube-proxy may leave (it cleans its nftables mode up when running in iptables mode).
NFT_TABLES = (("ip", "kube-proxy"), ("ip6", "kube-proxy"))


def isolation_rules() -> str:
    """The iptables-restore input (mangle table, IPv4) for the isolation chains."""
    ranges = (network.POD_CIDR, network.SERVICE_CIDR)
    egress_drops = [f"-A {EGRESS_CHAIN} {flag} {cidr} -j DROP" for cidr in ranges for flag in ("-s", "-d")]
    lines = [
        "*mangle",
        f":{FORWARD_CHAIN} - [0:0]",
        f":{EGRESS_CHAIN} - [0:0]",
        # Forwarding exists only for the pods: bridge to bridge. Everything else forwarded is dropped.
        f"-A {FORWARD_CHAIN} -i {network.BRIDGE} -o {network.BRIDGE} -j RETURN",
        f"-A {FORWARD_CHAIN} -j DROP",
        f"-A {EGRESS_CHAIN} -o {network.BRIDGE} -j RETURN",
        f"-A {EGRESS_CHAIN} -o lo -j RETURN",
        *egress_drops,
        "COMMIT",
        "",
    ]
    return "\n".join(lines)


def run(argv: list[str], stdin: str | None = None) -> str:
    return subprocess.run(argv, input=stdin, check=True, capture_output=True, text=True).stdout


def install_isolation() -> None:
    """Create (or refill) the isolation chains and put the jumps to them first in FORWARD/POSTROUTING."""
    run(["iptables-restore", "--noflush"], isolation_rules())
    for builtin, chain in (("FORWARD", FORWARD_CHAIN), ("POSTROUTING", EGRESS_CHAIN)):
        check = subprocess.run(["iptables", "-t", "mangle", "-C", builtin, "-j", chain], capture_output=True)
        if check.returncode != 0:
            run(["iptables", "-t", "mangle", "-I", builtin, "1", "-j", chain])


def parse_save(text: str) -> dict[str, dict[str, list[str]]]:
    """iptables-save output -> {table: {chain: [rule lines without "-A CHAIN "]}} (built-ins included)."""
    tables: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("*"):
            current = tables.setdefault(line[1:].strip(), {})
        elif line.startswith(":"):
            current.setdefault(line[1:].split()[0], [])
        elif line.startswith("-A "):
            chain, _, rule = line[3:].partition(" ")
            current.setdefault(chain, []).append(rule)
    return tables


def is_owned(chain: str) -> bool:
    return chain.startswith(OWNED_PREFIXES)


def cleanup_restore_input(tables: dict[str, dict[str, list[str]]]) -> dict[str, str]:
    """Per table, the iptables-restore --noflush input that removes owned chains and every jump to them."""
    out = {}
    for table, chains in tables.items():
        owned = [c for c in chains if is_owned(c)]
        if not owned:
            continue
        target = re.compile(r"(?:^|\s)-[jg] (" + "|".join(map(re.escape, owned)) + r")(?:\s|$)")
        lines = [f"*{table}"]
        lines += [f"-D {chain} {rule}" for chain, rules in chains.items() if not is_owned(chain)
                  for rule in rules if target.search(rule)]
        lines += [f":{chain} - [0:0]" for chain in owned]  # declaring a chain flushes it
        lines += [f"-X {chain}" for chain in owned]
        out[table] = "\n".join([*lines, "COMMIT", ""])
    return out


def owned_chains() -> list[str]:
    """Owned chains that exist now, as "family/table/chain"."""
    found = []
    for family in FAMILIES:
        for table, chains in parse_save(run([f"{family}-save"])).items():
            found += [f"{family}/{table}/{chain}" for chain in chains if is_owned(chain)]
    for family, name in NFT_TABLES:
        if subprocess.run(["nft", "list", "table", family, name], capture_output=True).returncode == 0:
            found.append(f"nft/{family}/{name}")
    return found


def remove_owned_chains() -> None:
    """Remove KUI-* and KUBE-* chains and the jumps to them, in both families and every table."""
    for family in FAMILIES:
        for _table, restore in cleanup_restore_input(parse_save(run([f"{family}-save"]))).items():
            run([f"{family}-restore", "--noflush"], restore)
    for family, name in NFT_TABLES:
        subprocess.run(["nft", "delete", "table", family, name], capture_output=True)


def dropped_packets(chain: str = FORWARD_CHAIN) -> int:
    """Packets the isolation chain has dropped so far (its DROP rules' counters)."""
    out = run(["iptables", "-t", "mangle", "-L", chain, "-v", "-x", "-n"])
    rows = [line.split() for line in out.splitlines()[2:]]
    return sum(int(row[0]) for row in rows if len(row) > 2 and row[2] == "DROP")
