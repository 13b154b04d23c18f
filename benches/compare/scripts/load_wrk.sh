#!/usr/bin/env bash
# `lkauth serve` (release build) under wrk on 127.0.0.1 for DURATION seconds
# (default 60) with a mix of valid, expired and forged tokens on GET /whoami: prints the
# responses by status (every valid one must be 200, every bad one 401, nothing else) and the
# server's RSS sampled every 5 s. The tokens come from benches/compare's bench_server, whose
# generator is lkauth/src/typical_token.rs, so the server is started with that key.
#
#   benches/compare/scripts/load_wrk.sh          # needs wrk (apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/../../.."
duration="${DURATION:-60}"
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk"; exit 1; }

cargo build --quiet --release -p lkauth
cargo build --quiet --release --manifest-path benches/compare/Cargo.toml --bin bench_server
target="$(scripts/target-dir.sh)"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# Write the token file (valid, then `expired` and `forged` lines) with the bench server.
benches/compare/target/release/bench_server 127.0.0.1:0 "$work/tokens.txt" >"$work/bench.log" 2>&1 &
writer=$!
for _ in $(seq 1 50); do [ -s "$work/tokens.txt" ] && break; sleep 0.1; done
kill $writer 2>/dev/null || true
valid=$(grep -vc ' ' "$work/tokens.txt"); bad=$(grep -c ' ' "$work/tokens.txt")

LIVEKIT_KEYS="APIbenchhttp01: benchHttpSecret0123456789abcdefghijklmnopqr" \
  taskset -c 0 "$target/release/lkauth" serve --bind 127.0.0.1:7882 >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 50); do grep -q listening "$work/server.log" && break; sleep 0.1; done

( for _ in $(seq 1 $((duration / 5))); do
    sleep 5; awk '/VmRSS/ {print $2}' "/proc/$server/status" 2>/dev/null
  done ) >"$work/rss.txt" &
sampler=$!

echo "tokens: $valid valid, $bad bad, sent in turn; ${duration}s on GET /whoami"
TOKENS_FILE="$work/tokens.txt" MIX=all taskset -c 1 wrk -t1 -c32 -d"${duration}s" \
  -s benches/compare/scripts/tokens.lua http://127.0.0.1:7882/whoami
wait $sampler 2>/dev/null || true
echo "server RSS (KiB) every 5 s: $(tr '\n' ' ' <"$work/rss.txt")"
