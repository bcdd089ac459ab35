#!/usr/bin/env bash
# The virtualenv with the pinned requirements (a no-op when they are already there).
# It lives in the build cache, outside the checkout (CI clones main into another folder and finds
# it warm; code scans of the checkout do not wander into third-party packages), keyed by the
# Python version; `.venv` in the checkout is a symlink to it. Override with KAMAJI_UI_VENV.
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
venv=${KAMAJI_UI_VENV:-${KAMAJI_UI_CACHE:-/var/cache/kamaji-ui}/venv-py$py}
if [ -d .venv ] && [ ! -L .venv ]; then
  rm -rf .venv  # a virtualenv of an older checkout layout, inside the checkout
fi
mkdir -p "$(dirname "$venv")"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
ln -sfn "$venv" .venv
stamp=$venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -r requirements.txt
  echo "$want" > "$stamp"
fi
