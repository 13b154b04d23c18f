#!/usr/bin/env bash
# Live interop, several replicas (issue 12): one redis-server on a free 127.0.0.1 port (no
# persistence), three `lkauth serve` processes with `--redis` on it, and the official Node
# RoomServiceClient + AccessToken (livekit-server-sdk, pinned in package-lock.json;
# replicas.mjs): a participant joins on replica A, is updated through B, its original token
# shows the new grants on C; removed through C, the token is refused on A and B.
# Prints each check's ok/FAIL line and "N passed, M failed"; exits 1 on any failure. Every
# process it started is stopped on exit, by PID. Run by .ci/run; needs Node 20 with npm, and
# installs Debian's redis-server when it is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"

"$root/scripts/install_tools.sh"
bash "$here/setup.sh"
# lkauth, built once (it always has Redis support).
server="$("$root/scripts/build_lkauth.sh")"

source "$here/lib.sh"
work="$interop_work"

# redis-server on a free port. The machine may be shared: a port taken between the pick and
# the start makes it exit, and a PONG counts only from our own process (INFO's process_id).
start_redis() {
  local pid info
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$work" \
    >"$work/redis.log" 2>&1 &
  pid=$!
  pids+=($pid)
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || return 1
    info="$(redis-cli -h 127.0.0.1 -p "$port" info server 2>/dev/null | tr -d '\r' || true)"
    if grep -qx "process_id:$pid" <<<"$info"; then
      redis_pid=$pid
      return 0
    fi
    sleep 0.05
  done
  return 1
}
redis_pid=""
for _ in 1 2 3 4 5; do
  start_redis && break
done
[ -n "$redis_pid" ] || { cat "$work/redis.log"; echo "redis-server did not start on 127.0.0.1"; exit 1; }

key="APIinteropreplicas"
secret="$(random_secret)"
urls=()
for name in A B C; do
  LIVEKIT_KEYS="$key: $secret" start_demo "replica $name" "$server" serve --redis "redis://127.0.0.1:$port"
  echo "replica $name: $demo_url (pid $demo_pid), redis-server 127.0.0.1:$port (pid $redis_pid)"
  urls+=("$demo_url")
done

out="$work/replicas.out"
set +e
REPLICA_A="${urls[0]}" REPLICA_B="${urls[1]}" REPLICA_C="${urls[2]}" \
  LIVEKIT_API_KEY="$key" LIVEKIT_API_SECRET="$secret" \
  timeout 120 node "$here/replicas.mjs" | tee "$out"
status=${PIPESTATUS[0]}
set -e
if ! grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$out"; then
  echo "FAIL replicas.mjs ended (status $status) without its summary line"
  echo "0 passed, 1 failed"
  exit 1
fi
exit "$status"
