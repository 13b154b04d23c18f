#!/usr/bin/env bash
# Installs the pinned official SDKs into interop/: livekit-server-sdk from package-lock.json
# (skipped when node_modules is already newer than the lock file) and, with --python,
# livekit-api from requirements.txt into interop/.venv. Needs Node 20 with npm and Python 3.11.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! node_modules/.package-lock.json -nt package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ "${1:-}" = "--python" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
fi
