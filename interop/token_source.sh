#!/usr/bin/env bash
# Live interop: the official JS client's TokenSource (livekit-client, pinned in
# package-lock.json) against `lkauth serve` over 127.0.0.1: TokenSource.endpoint and its
# cache on POST /token, TokenSource.developmentTokenServer on the local
# /api/v2/sandbox/connection-details, and the recorded Swift, Android, Flutter and Rust requests
# of tests/fixtures/token_requests/; every token checked with the Node SDK's TokenVerifier and
# the crate's Verifier. Run by .ci/run; needs Node 20 and npm.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"

bash "$here/setup.sh"
cargo build --quiet -p lkauth --manifest-path "$root/Cargo.toml"
target="$("$root/scripts/target-dir.sh")"

source "$here/lib.sh"
key="APIinteroptokens"
secret="$(random_secret)"
LIVEKIT_KEYS="$key: $secret" start_demo "lkauth serve" "$target/debug/lkauth" serve

DEMO_URL="$demo_url" LIVEKIT_API_KEY="$key" LIVEKIT_API_SECRET="$secret" \
  timeout 120 node "$here/token_source.mjs"
