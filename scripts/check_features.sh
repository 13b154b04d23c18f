#!/usr/bin/env bash
# The crate with no features and with each feature alone: each combination lints clean (every
# target) and passes its unit and integration tests. The features come from Cargo.toml's
# [features] (via `cargo metadata`), so a new feature is covered without editing this. All
# features together are .ci/run's `lint` (clippy) and `test` (./scripts/test, doc tests too)
# stages: run once there, not again here.
#
# Usage: scripts/check_features.sh [--list]   (--list: print the combinations and stop)
set -euo pipefail
cd "$(dirname "$0")/.."

features=$(cargo metadata --format-version 1 --no-deps | python3 -c '
import json, sys
meta = json.load(sys.stdin)
package = next(p for p in meta["packages"] if p["name"] == "tower-livekit-auth")
print(" ".join(sorted(name for name in package["features"] if name != "default")))
')
if [ -z "$features" ]; then
  echo "check_features: no features found in Cargo.toml's [features]; is cargo metadata working?" >&2
  exit 1
fi

# The cargo arguments of each combination.
combinations=("--no-default-features")
for feature in $features; do combinations+=("--no-default-features --features $feature"); done

if [ "${1:-}" = "--list" ]; then
  for combination in "${combinations[@]}"; do echo "$combination"; done
  exit 0
fi

for combination in "${combinations[@]}"; do
  read -r -a args <<<"$combination"
  echo "-- $combination"
  cargo clippy "${args[@]}" --all-targets --quiet -- -D warnings
  # Built for this loop alone: the crate and its tests with line tables only, not full debug
  # info (their linking is most of the loop's time). The dependencies keep their artifacts.
  cargo test "${args[@]}" --config 'profile.dev.package.tower-livekit-auth.debug="line-tables-only"' \
    --lib --tests --quiet
done
