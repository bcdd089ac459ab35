#!/usr/bin/env bash
# Debian packages the product and its tests need on this machine (idempotent; root).
set -euo pipefail
PACKAGES=(
  containerd runc containernetworking-plugins iptables nftables conntrack iproute2 socat
  chromium fonts-liberation postgresql mariadb-server nats-server redis-server
  python3-venv  # scripts/venv.sh: `python3 -m venv` on Debian's own python3
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts some servers on install; the project runs its own, by pid, on its own ports.
for svc in mariadb postgresql redis-server nats-server containerd; do
  service "$svc" stop >/dev/null 2>&1 || true
done
