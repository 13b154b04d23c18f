#!/usr/bin/env bash
# Builds the demo server with Redis (`--features axum,redis --example server`, pass --release
# for an optimized build) and prints its executable's path as cargo reports it. A later build
# of the example with other features replaces that file: run it right after this. Compiler
# messages go to stderr. Used by interop/live_replicas.sh, benches/compare/scripts/redis_outage.sh and
# benches/compare/scripts/redis_propagation.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --features axum,redis --example server "$@" \
  --message-format=json-render-diagnostics |
  python3 -c '
import json, sys
found = ""
for line in sys.stdin:
    m = json.loads(line)
    t = m.get("target", {})
    if m.get("reason") == "compiler-artifact" and t.get("name") == "server" and "example" in t.get("kind", []):
        found = m.get("executable") or ""
if not found:
    sys.exit("cargo did not report the demo server example executable")
print(found)
'
