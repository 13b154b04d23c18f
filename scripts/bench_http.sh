#!/usr/bin/env bash
# HTTP throughput of the middleware with wrk on 127.0.0.1: the same route without the layer
# (/plain), with a do-nothing layer and pre-verified claims (/noop: the framework's share),
# with it (/auth), with the token cache (/cached), and /auth with only expired and
# forged tokens (rejections). Server pinned to CPU 0 (one thread), wrk to CPU 1. Each
# measurement is DURATION seconds (default 10), ROUNDS rounds (default 3) interleaved; prints
# the median requests/s and the ratio to /plain.
#
#   scripts/bench_http.sh            # needs wrk (apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${DURATION:-10}"
rounds="${ROUNDS:-3}"
connections="${CONNECTIONS:-32}"
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk"; exit 1; }

cargo build --quiet --release --example bench_server
target="$(scripts/target-dir)"
work="$(mktemp -d)"
port="${PORT:-7881}"
taskset -c 0 "$target/release/examples/bench_server" "127.0.0.1:$port" "$work/tokens.txt" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do grep -q listening "$work/server.log" 2>/dev/null && break; sleep 0.1; done

run() { # path mix -> requests/s, and the status counts on stderr
  local out
  out="$(TOKENS_FILE="$work/tokens.txt" MIX="$2" taskset -c 1 wrk -t1 -c"$connections" -d"${duration}s" \
    -s scripts/tokens.lua "http://127.0.0.1:$port$1")"
  echo "$out" | grep -E '^status|Non-2xx' | sed "s|^|    $1 $2: |" >&2
  echo "$out" | awk '/Requests\/sec/ {print $2}'
}

declare -A results
for round in $(seq 1 "$rounds"); do
  for case in "/plain valid" "/noop valid" "/auth valid" "/cached valid" "/auth bad"; do
    set -- $case
    rps="$(run "$1" "$2")"
    results["$1 $2"]+="$rps "
    echo "round $round $1 $2: $rps req/s" >&2
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
plain="$(echo "${results["/plain valid"]}" | median)"
echo
echo "median of $rounds x ${duration}s, $connections connections, server on CPU 0, wrk on CPU 1"
for case in "/plain valid" "/noop valid" "/auth valid" "/cached valid" "/auth bad"; do
  m="$(echo "${results[$case]}" | median)"
  awk -v c="$case" -v m="$m" -v p="$plain" 'BEGIN { printf "%-16s %10.0f req/s  %.2fx /plain\n", c, m, m / p }'
done
