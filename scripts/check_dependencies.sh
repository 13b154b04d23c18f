#!/usr/bin/env bash
# Issue 13, item 1: the crate must not bring jsonwebtoken (or the asymmetric crypto of its
# `rust_crypto` backend) into an application.
#
# (i)  `cargo tree -e normal` of the crate, with no features and with all of them, for every
#      target platform, contains none of: jsonwebtoken, rsa, p256, p384, ed25519-dalek.
#      jsonwebtoken 11 picks one process-wide backend from its features, so an application on
#      `aws_lc_rs` plus a crate turning on `rust_crypto` panics on every sign and verify; `rsa`
#      0.9 carries RUSTSEC-2023-0071 (no fixed version) into every user's `cargo audit`.
# (ii) tests/coexist, an application with jsonwebtoken 11 + `aws_lc_rs` next to the crate, builds
#      and runs: the crate mints and verifies, jsonwebtoken signs and verifies, no panic.
#
# Needs Rust and a C compiler (aws-lc-sys builds AWS-LC with the `cc` crate on x86_64/aarch64
# Linux: no cmake, clang, nasm or Go); installs gcc with apt-get when no `cc` is found.
# Usage: scripts/check_dependencies.sh
set -euo pipefail
cd "$(dirname "$0")/.."

FORBIDDEN=(jsonwebtoken rsa p256 p384 ed25519-dalek)
status=0

echo "-- (i) the crate's normal dependencies hold none of: ${FORBIDDEN[*]}"
for features in "" "--all-features"; do
  label="${features:-no features}"
  clean=1
  # --prefix none: one "name vX.Y.Z ..." line per package; --target all: platform-specific
  # dependencies too, not only the host's.
  tree="$(cargo tree --locked -e normal --target all --prefix none $features)"
  for crate in "${FORBIDDEN[@]}"; do
    if awk -v c="$crate" '$1 == c { found = 1 } END { exit !found }' <<<"$tree"; then
      status=1 clean=0
      echo "FAIL ($label): '$crate' is a normal dependency of tower-livekit-auth." >&2
      echo "  It must not be: keep it a dev-dependency at most. It comes in through:" >&2
      cargo tree --locked -e normal --target all $features --invert "$crate" 2>&1 |
        sed 's/^/    /' >&2
    fi
  done
  if [ "$clean" -eq 1 ]; then echo "ok ($label)"; fi
done

echo "-- (ii) an application with jsonwebtoken 11 + aws_lc_rs next to the crate (tests/coexist)"
if ! command -v cc >/dev/null 2>&1; then
  echo "no C compiler (cc) found; aws-lc-sys needs one: installing gcc with apt-get"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev
fi
manifest=tests/coexist/Cargo.toml
if ! cargo metadata --locked --format-version 1 --manifest-path "$manifest" >/dev/null; then
  echo "FAIL: tests/coexist/Cargo.lock is out of date (the crate's dependencies changed?)." >&2
  echo "  Run: cargo update --manifest-path $manifest -p tower-livekit-auth" >&2
  echo "  then commit tests/coexist/Cargo.lock." >&2
  exit 1
fi
# The check means something only if the application's jsonwebtoken really runs on aws_lc_rs.
features_on="$(cargo tree --locked --manifest-path "$manifest" -e features -i jsonwebtoken)"
if ! grep -q 'jsonwebtoken feature "aws_lc_rs"' <<<"$features_on"; then
  echo "FAIL: tests/coexist's jsonwebtoken does not have the aws_lc_rs feature on." >&2
  exit 1
fi
# The crate's target directory, so that the dependencies both build are compiled once.
target_dir="$(scripts/target-dir.sh)"
(cd tests/coexist && cargo fmt -- --check)
cargo clippy --locked --quiet --manifest-path "$manifest" --target-dir "$target_dir" \
  --all-targets -- -D warnings
if ! RUST_BACKTRACE=0 cargo run --locked --quiet --manifest-path "$manifest" \
  --target-dir "$target_dir"; then
  status=1
  echo "FAIL: jsonwebtoken and the crate do not work side by side in one application (above)." >&2
fi
if [ "$status" -ne 0 ]; then
  echo "check_dependencies: FAILED (see the FAIL lines above)" >&2
  exit 1
fi
echo "check_dependencies: ok"
