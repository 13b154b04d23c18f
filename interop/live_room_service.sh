#!/usr/bin/env bash
# Live interop against one `lkauth serve` on 127.0.0.1: the official Node RoomServiceClient
# (livekit-server-sdk, pinned in package-lock.json; room_service.mjs) and the official Python
# LiveKitAPI().room (livekit-api, pinned in requirements.txt; room_service.py, which also runs
# the Node side of "both SDKs, one state" through room_service_peer.mjs) manage rooms and a
# participant's live state: promoted, changed and removed after its token was issued.
# Prints each check's ok/FAIL line, each client's "N passed, M failed", then the total as
# "N passed, M failed"; exits 1 on any failure. Run by .ci/run; needs Node 20 with npm and
# Python 3.11 with venv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"

bash "$here/setup.sh" --python
cargo build --quiet -p lkauth --manifest-path "$root/Cargo.toml"
target="$("$root/scripts/target-dir.sh")"

source "$here/lib.sh"
key="APIinteroplive"
secret="$(random_secret)"
LIVEKIT_KEYS="$key: $secret" start_demo "lkauth serve" "$target/debug/lkauth" serve

export LIVEKIT_URL="$demo_url" LIVEKIT_API_KEY="$key" LIVEKIT_API_SECRET="$secret"
total_passed=0
total_failed=0
# Runs one client (bounded by `timeout`), streaming its ok/FAIL lines, and adds its summary to
# the totals. Its own "N passed, M failed" line is shown as a subtotal in other words, so that
# the output has exactly one such line, the total. A client that exits non-zero with no failed
# check (or dies before its summary) counts as one more failure.
run() {
  local name="$1" out summary status
  shift
  echo "-- $name"
  out="$(mktemp)"
  set +e
  timeout 120 "$@" | tee "$out" | sed -u -E '/^[0-9]+ passed, [0-9]+ failed$/d'
  status=${PIPESTATUS[0]}
  set -e
  summary="$(sed -n -E 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$out" | tail -n 1)"
  rm -f "$out"
  if [ -z "$summary" ]; then
    echo "FAIL $name ended (status $status) without its summary line"
    total_failed=$((total_failed + 1))
    return
  fi
  set -- $summary
  echo "-- $name: $1 of $(($1 + $2)) checks ok"
  total_passed=$((total_passed + $1))
  total_failed=$((total_failed + $2))
  if [ "$status" -ne 0 ] && [ "$2" -eq 0 ]; then
    echo "FAIL $name exited with status $status"
    total_failed=$((total_failed + 1))
  fi
}
run "Node livekit-server-sdk RoomServiceClient" node "$here/room_service.mjs"
run "Python livekit-api LiveKitAPI().room, and both SDKs on one state" \
  "$here/.venv/bin/python" "$here/room_service.py"
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
