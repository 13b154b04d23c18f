#!/usr/bin/env bash
# Builds the lkauth binary (`cargo build -p lkauth`; pass --release for an optimized build) and
# prints its executable's path as cargo reports it. lkauth always has Redis support (`serve
# --redis URL`, or `serve --config` with a redis: block). Compiler messages go to stderr. Used by
# interop/live_replicas.sh, benches/compare/scripts/redis_outage.sh and
# benches/compare/scripts/redis_propagation.sh (which run `<path> serve ...`).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p lkauth --bin lkauth "$@" \
  --message-format=json-render-diagnostics |
  python3 -c '
import json, sys
found = ""
for line in sys.stdin:
    m = json.loads(line)
    t = m.get("target", {})
    if m.get("reason") == "compiler-artifact" and t.get("name") == "lkauth" and "bin" in t.get("kind", []):
        found = m.get("executable") or ""
if not found:
    sys.exit("cargo did not report the lkauth executable")
print(found)
'
