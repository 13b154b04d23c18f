#!/usr/bin/env bash
# Prints cargo's target directory for this package (honours CARGO_TARGET_DIR and config).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
