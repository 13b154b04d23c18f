#!/usr/bin/env bash
# The gate's own checks per second on one core: `lkauth gate` pinned to CPU 0 (`taskset -c 0`:
# its runtime then has one worker thread), wrk pinned to CPU 1 asking its /auth nginx's way
# (`X-Original-URI: /rtc/validate`), typical join tokens in `Authorization`. Three cases, each
# round running them in turn:
#   valid      valid tokens, the gate as it starts by default (the token cache on)
#   uncached   valid tokens, `--token-cache 0`: every check verifies the signature
#   refused    revoked (removed through the gate's RoomService), expired and forged tokens
# DURATION seconds per measurement (default 5), ROUNDS rounds (default 9); prints each case's
# median checks per second and quartiles, and, since other processes may take CPU 0 as well
# on a shared machine, the checks per second of the gate's own CPU time (the checks served
# divided by the user + system time the gate used meanwhile, /proc/PID/stat): what one whole
# core would serve.
#
#   benches/compare/scripts/gate_checks.sh     # needs wrk (scripts/install_tools.sh wrk)
source "$(dirname "$0")/gate_lib.sh"
need wrk taskset python3
rounds="${ROUNDS:-9}"
build
"$tokens_tool" write "$work/tokens.txt" 1000 200 2>/dev/null

start_gate cached 0
cached="$gate_url" cached_pid="$gate_pid"
start_gate uncached 0 --token-cache 0
uncached="$gate_url" uncached_pid="$gate_pid"
hz="$(getconf CLK_TCK)"
for gate in "$cached" "$uncached"; do "$tokens_tool" remove "$gate" "$work/tokens.txt"; done

echo "load before: $(load)"
for round in $(seq 1 "$rounds"); do
  for case in valid uncached refused; do
    case "$case" in
      valid) url="$cached" pid="$cached_pid" mix=valid ;;
      uncached) url="$uncached" pid="$uncached_pid" mix=valid ;;
      refused) url="$cached" pid="$cached_pid" mix=bad ;;
    esac
    before="$(cpu_ticks "$pid")"
    result="$(run_wrk 1 "$url/auth" "$mix" /rtc/validate)"
    ticks=$(($(cpu_ticks "$pid") - before))
    echo "$round $case $result $ticks" >>"$work/results"
    echo "round $round $case: ${result%% *} checks/s, the gate busy $((ticks * 100 / hz)) cs of ${DURATION:-5} s" >&2
  done
done
echo "load after: $(load)"

awk '$2 != "refused" && ($4 != 0 || $5 != 0) {print "round " $1 " " $2 ": " $4 " non-2xx"; bad = 1}
  $2 == "refused" && $5 != 0 {print "round " $1 ": " $5 " socket errors"; bad = 1}
  END {exit bad}' "$work/results" || { echo "valid tokens must all be allowed" >&2; exit 1; }
awk '$1 == "bad" && $3 != 401 {print $4 " answers " $3 " to refused tokens"; bad = 1}
  END {exit bad}' "$work/statuses" || { echo "refused tokens must all get 401" >&2; exit 1; }
echo "over $rounds rounds of ${DURATION:-5} s, gate on CPU 0, wrk on CPU 1 (median, quartiles):"
for case in valid uncached refused; do
  set -- $(awk -v c="$case" '$2 == c {print $3}' "$work/results" | stats)
  wall="$1 ($2 .. $3)"
  set -- $(awk -v c="$case" -v hz="$hz" '$2 == c && $7 > 0 {print $6 * hz / $7}' "$work/results" | stats)
  cpu="$1 ($2 .. $3)"
  set -- $(awk -v c="$case" -v hz="$hz" '$2 == c && $6 > 0 {print 1e6 * $7 / hz / $6}' "$work/results" | stats)
  echo "$case: $wall checks/s; per second of the gate's CPU time $cpu, $1 µs of CPU per check"
done
