#!/usr/bin/env bash
# Live interop of `lkauth gate` with the official Node RoomServiceClient (livekit-server-sdk,
# pinned in package-lock.json; gate_room_service.mjs): a gate whose --livekit-url is a second
# server standing in for LiveKit (`lkauth serve`), and a gate whose LiveKit cannot be reached.
# The SDK, pointed at the gate, removes a participant in both the stand-in and the gate's
# state, and its token is then refused at the gate's /auth.
# Prints each check's ok/FAIL line, then "N passed, M failed"; exits 1 on any failure. Needs
# Node 20 with npm.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"

bash "$here/setup.sh"
cargo build --quiet -p lkauth --manifest-path "$root/Cargo.toml"
target="$("$root/scripts/target-dir.sh")"
lkauth="$target/debug/lkauth"

source "$here/lib.sh"

key="APIgateinterop"
secret="$(random_secret)"
export LIVEKIT_KEYS="$key: $secret"
start_demo "LiveKit stand-in" "$lkauth" serve
stand_in_url="$demo_url"
start_demo "gate" "$lkauth" gate --livekit-url "$stand_in_url"
gate_url="$demo_url"
# A LiveKit URL nothing listens on: a port bound and released.
dead_url="http://$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print("127.0.0.1:%d" % s.getsockname()[1]); s.close()')"
start_demo "gate without LiveKit" "$lkauth" gate --livekit-url "$dead_url" --livekit-timeout 2
orphan_url="$demo_url"

LIVEKIT_URL="$gate_url" LIVEKIT_STAND_IN_URL="$stand_in_url" GATE_WITHOUT_LIVEKIT_URL="$orphan_url" \
  LIVEKIT_API_KEY="$key" LIVEKIT_API_SECRET="$secret" \
  timeout 120 node "$here/gate_room_service.mjs"
