# Shared by the live interop scripts (token_source.sh, live_room_service.sh, live_replicas.sh);
# source it after setting `set -euo pipefail`. Every process started here is recorded in
# `pids` and stopped by PID on exit (`trap interop_cleanup EXIT`).

interop_work="$(mktemp -d)"
pids=()
interop_cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$interop_work"
}
trap interop_cleanup EXIT

# A fresh 43-character alphanumeric secret (above the crate's 32-byte minimum).
random_secret() {
  python3 -c 'import secrets, string; a = string.ascii_letters + string.digits; print("".join(secrets.choice(a) for _ in range(43)))'
}

# start_demo NAME LKAUTH SUBCOMMAND ARGS...: starts `LKAUTH SUBCOMMAND` (`serve` or `gate`; the
# lkauth binary, built once with `cargo build -p lkauth`) on 127.0.0.1:0 with the environment the caller exported
# (LIVEKIT_KEYS), waits up to 10 s for its "listening on" line and sets `demo_url` and
# `demo_pid`. Shows the server's log and exits 1 if it exits or does not start.
start_demo() {
  local name="$1" executable="$2" subcommand="$3" log
  shift 3
  log="$interop_work/${name// /-}.log"
  : >"$log" # before the start: the background process opens it only after the fork
  "$executable" "$subcommand" --bind 127.0.0.1:0 "$@" >"$log" 2>&1 &
  demo_pid=$!
  pids+=("$demo_pid")
  demo_url=""
  for _ in $(seq 1 200); do
    demo_url="$(sed -n 's/^listening on \(http:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' "$log" || true)"
    [ -n "$demo_url" ] && return 0
    kill -0 "$demo_pid" 2>/dev/null || { cat "$log"; echo "$name exited"; exit 1; }
    sleep 0.05
  done
  cat "$log"
  echo "$name did not start within 10 s"
  exit 1
}
