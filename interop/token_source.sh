#!/usr/bin/env bash
# Live interop: the official JS client's TokenSource (livekit-client, pinned in
# package-lock.json) against the demo server over 127.0.0.1: TokenSource.endpoint and its
# cache on POST /token, TokenSource.developmentTokenServer on the local
# /api/v2/sandbox/connection-details, and the recorded Swift, Android, Flutter and Rust requests
# of tests/fixtures/token_requests/; every token checked with the Node SDK's TokenVerifier and
# the crate's Verifier. Run by .ci/run; needs Node 20 and npm.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"

bash "$here/setup.sh"
cargo build --quiet --example server --features axum --manifest-path "$root/Cargo.toml"
target="$("$root/scripts/target-dir")"

key="APIinteroptokens"
secret="$(python3 -c 'import secrets, string; a = string.ascii_letters + string.digits; print("".join(secrets.choice(a) for _ in range(43)))')"
log="$(mktemp)"
LIVEKIT_KEYS="$key: $secret" "$target/debug/examples/server" --bind 127.0.0.1:0 >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT

url=""
for _ in $(seq 1 100); do
  url="$(sed -n 's/^listening on \(http:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' "$log")"
  [ -n "$url" ] && break
  kill -0 $server 2>/dev/null || { cat "$log"; echo "the demo server exited"; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { cat "$log"; echo "the demo server did not start within 10 s"; exit 1; }

DEMO_URL="$url" LIVEKIT_API_KEY="$key" LIVEKIT_API_SECRET="$secret" \
  timeout 120 node "$here/token_source.mjs"
