#!/usr/bin/env bash
# Instructions per HTTP request inside the benchmark server, by route: the machine-independent
# companion of benches/compare/scripts/bench_http.sh. Runs benches/compare's bench_server under callgrind, drives one
# route with wrk (4 connections, SECONDS_PER_ROUTE seconds, default 8), and divides the instructions
# beyond an idle start-up by the requests served. Valgrind's CPU has no SHA extensions, so
# SHA-256 runs its portable code here (~27 k instructions of each verifying request).
#
#   benches/compare/scripts/bench_http_instructions.sh                  # /plain /noop /reference /auth /cached
#   benches/compare/scripts/bench_http_instructions.sh /auth:bad /auth  # a route with a token mix (valid, bad)
#   benches/compare/scripts/bench_http_instructions.sh --demo           # lkauth serve: / /rtc/validate /whoami
#
# Needs valgrind and wrk (apt-get install valgrind wrk).
set -euo pipefail
cd "$(dirname "$0")/../../.."
seconds="${SECONDS_PER_ROUTE:-8}"
port="${PORT:-7895}"
demo=0
if [ "${1:-}" = --demo ]; then demo=1; shift; fi
for tool in valgrind wrk callgrind_annotate; do
    command -v "$tool" >/dev/null || { echo "$tool is not installed: apt-get install valgrind wrk"; exit 1; }
done
cargo build --quiet --release --manifest-path benches/compare/Cargo.toml --bin bench_server
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ "$demo" = 1 ]; then
    # lkauth serve with the key of bench_server's tokens, written first.
    cargo build --quiet --release -p lkauth
    benches/compare/target/release/bench_server 127.0.0.1:0 "$work/tokens.txt" >"$work/writer.log" 2>&1 &
    writer=$!
    for _ in $(seq 1 50); do [ -s "$work/tokens.txt" ] && break; sleep 0.1; done
    kill $writer 2>/dev/null || true
    wait $writer 2>/dev/null || true
    server="$(scripts/target-dir.sh)/release/lkauth"
    server_args=(serve --bind "127.0.0.1:$port")
    export LIVEKIT_KEYS="APIbenchhttp01: benchHttpSecret0123456789abcdefghijklmnopqr"
    default_routes=(/ /rtc/validate /whoami)
else
    server="benches/compare/target/release/bench_server"
    server_args=("127.0.0.1:$port" "$work/tokens.txt")
    default_routes=(/plain /noop /reference /auth /cached)
fi

# total instructions of one server run; with a route, also drives it and prints the requests
measure() { # route mix -> "instructions requests"
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$server" "${server_args[@]}" \
        >"$work/server.log" 2>"$work/valgrind.log" &
    local pid=$! requests=0
    for _ in $(seq 1 100); do grep -q listening "$work/server.log" 2>/dev/null && break; sleep 0.2; done
    if [ -n "$1" ]; then
        requests="$(TOKENS_FILE="$work/tokens.txt" MIX="$2" wrk -t1 -c4 -d"${seconds}s" \
            -s benches/compare/scripts/tokens.lua "http://127.0.0.1:$port$1" | awk '/requests in/ {print $1}')"
    fi
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    echo "$(awk '/^(summary|totals):/ {print $2; exit}' "$work/cg.out") $requests"
}

routes=("$@")
[ ${#routes[@]} -gt 0 ] || routes=("${default_routes[@]}")
read -r idle _ < <(measure "" "")
printf '%-16s %10s %14s\n' route requests instr/request
for spec in "${routes[@]}"; do
    route="${spec%%:*}"
    mix=valid
    [ "$spec" = "$route" ] || mix="${spec#*:}"
    read -r total requests < <(measure "$route" "$mix")
    [ "${requests:-0}" -gt 0 ] || { echo "$route $mix: wrk made no request"; exit 1; }
    printf '%-16s %10d %14d\n' "$route $mix" "$requests" $(((total - idle) / requests))
done
