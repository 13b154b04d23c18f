#!/usr/bin/env bash
# HTTP throughput of the middleware with wrk on 127.0.0.1: the same route without the layer
# (/plain), with a do-nothing layer and pre-verified claims (/noop: the framework's share),
# with the benchmark's bare reference verifier (/reference: the floor), with the layer
# (/auth), with the token cache (/cached), and /auth with only expired and forged tokens
# (rejections). Server pinned to CPU 0 (one thread), wrk to CPU 1. Each measurement is
# DURATION seconds (default 2), in ROUNDS rounds (default 15) that run every case in turn.
# Prints per case the median requests/s and the median over rounds of the case's ratio to
# that round's /plain (with the quartiles): on a shared machine the speed drifts by tens of
# percent within a minute, and ratios taken seconds apart cancel most of it.
#
# With --demo it drives `lkauth serve` instead (lkauth/src/serve/: participant state, the refresh
# header layer, the rooms), same setup: GET / (no layer, "OK"), GET /rtc/validate (the layer
# with the token in the header or the query, the connection check, and the join recorded in
# the demo's rooms: a tiny body), GET /whoami (the layer and the claims as JSON), and
# /rtc/validate with only expired and forged tokens; ratios against GET /.
#
#   benches/compare/scripts/bench_http.sh            # needs wrk (apt-get install wrk)
#   benches/compare/scripts/bench_http.sh --demo     # the routes of lkauth serve
set -euo pipefail
cd "$(dirname "$0")/../../.."
duration="${DURATION:-2}"
rounds="${ROUNDS:-15}"
connections="${CONNECTIONS:-32}"
mode=bench
case "${1:-}" in
  "") ;;
  --demo) mode=demo ;;
  *) echo "usage: $0 [--demo]" >&2; exit 2 ;;
esac
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk"; exit 1; }

cargo build --quiet --release --manifest-path benches/compare/Cargo.toml --bin bench_server
work="$(mktemp -d)"
port="${PORT:-7881}"
if [ "$mode" = demo ]; then
  cargo build --quiet --release -p lkauth
  # The tokens: bench_server writes them (lkauth/src/typical_token.rs, 64 participants
  # in 8 rooms), then lkauth serve runs with their key.
  benches/compare/target/release/bench_server 127.0.0.1:0 "$work/tokens.txt" >"$work/writer.log" 2>&1 &
  writer=$!
  for _ in $(seq 1 50); do [ -s "$work/tokens.txt" ] && break; sleep 0.1; done
  kill $writer 2>/dev/null || true
  wait $writer 2>/dev/null || true
  LIVEKIT_KEYS="APIbenchhttp01: benchHttpSecret0123456789abcdefghijklmnopqr" \
    taskset -c 0 "$(scripts/target-dir.sh)/release/lkauth" serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
  server=$!
  baseline="/ valid"
  cases=("/ valid" "/rtc/validate valid" "/whoami valid" "/rtc/validate bad")
else
  taskset -c 0 benches/compare/target/release/bench_server "127.0.0.1:$port" "$work/tokens.txt" >"$work/server.log" 2>&1 &
  server=$!
  baseline="/plain valid"
  cases=("/plain valid" "/noop valid" "/reference valid" "/auth valid" "/cached valid" "/auth bad")
fi
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do grep -q listening "$work/server.log" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$work/server.log" || { echo "the server did not start:"; cat "$work/server.log"; exit 1; }

run() { # path mix -> "requests/s non-2xx socket-errors", and the status counts on stderr
  local out
  out="$(TOKENS_FILE="$work/tokens.txt" MIX="$2" taskset -c 1 wrk -t1 -c"$connections" -d"${duration}s" \
    -s benches/compare/scripts/tokens.lua "http://127.0.0.1:$port$1")"
  echo "$out" | grep -E '^status|Non-2xx|Socket errors' | sed "s|^|    $1 $2: |" >&2
  echo "$out" | awk '/Requests\/sec/ {rps = $2} /Non-2xx/ {bad = $NF}
    /Socket errors/ {gsub(",", ""); errors = $4 + $6 + $8 + $10}
    END {print rps, bad + 0, errors + 0}'
}

load="$(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$rounds"); do
  for case in "${cases[@]}"; do
    set -- $case
    result="$(run "$1" "$2")"
    echo "$round $1 $2 $result" >>"$work/results"
    echo "round $round $1 $2: ${result%% *} req/s" >&2
  done
done

echo
echo "$mode: $rounds rounds x ${duration}s per case, $connections connections, server on CPU 0, wrk on CPU 1, load before: $load"
python3 - "$work/results" "$baseline" <<'PY'
import statistics, sys
from collections import defaultdict
base = sys.argv[2]
rounds, failed = defaultdict(dict), defaultdict(int)
for line in open(sys.argv[1]):
    n, path, mix, rps, non_2xx, errors = line.split()
    rounds[n][f"{path} {mix}"] = float(rps)
    failed[f"{path} {mix}"] += int(non_2xx) + int(errors)
cases = list(next(iter(rounds.values())))
print(f"{'case':<20} {'req/s':>8}  {'vs ' + base.split()[0]:>9}  {'quartiles':>11}  non-2xx or errors")
for case in cases:
    rps = statistics.median(r[case] for r in rounds.values())
    ratios = sorted(r[case] / r[base] for r in rounds.values())
    q1, _, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else (ratios[0],) * 3
    print(f"{case:<20} {rps:8.0f}  {statistics.median(ratios):8.2f}x  {q1:.2f}-{q3:.2f}  {failed[case]}")
PY
