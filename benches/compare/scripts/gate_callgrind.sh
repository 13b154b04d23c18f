#!/usr/bin/env bash
# Instructions per check of `lkauth gate`: the machine-independent companion of gate_checks.sh.
# Runs the release gate under callgrind, sends it SMALL and then (another run) LARGE checks in
# a row on one keep-alive connection (gate_tokens check: /auth asked nginx's way about
# /rtc/validate, typical join tokens) and divides the difference of the two runs' totals by
# LARGE - SMALL, so the start, the shutdown, the first connection and the first sight of each
# token cancel out. 64 valid tokens (64 participants in 8 rooms), 64 revoked, 64 expired and
# 64 forged. Cases as in gate_checks.sh: valid (token cache on, the default), uncached
# (`--token-cache 0`), refused (revoked, expired and forged tokens), and the floor: GET
# /healthz on the same server and connection, no check. Valgrind's CPU has no SHA extensions:
# SHA-256 runs its portable code here (about 27 k instructions of each verification).
#
#   benches/compare/scripts/gate_callgrind.sh     # needs valgrind (scripts/install_tools.sh valgrind)
source "$(dirname "$0")/gate_lib.sh"
need valgrind python3
small="${SMALL:-500}"
large="${LARGE:-5500}"
build
"$tokens_tool" write "$work/tokens.txt" 64 64 2>/dev/null
export GATE_WAIT=600 # under valgrind the start takes seconds

# measure CASE COUNT: sets `total` to the instructions of a gate run that served COUNT checks
measure() {
  local case="$1" count="$2" mix=valid args=()
  case "$case" in
    uncached) args=(--token-cache 0) ;;
    refused) mix=bad ;;
    healthz) mix=healthz ;;
  esac
  local out="$work/callgrind.$case.$count"
  wrap=(valgrind --tool=callgrind "--callgrind-out-file=$out")
  start_gate "gate-$case-$count" "" "${args[@]}"
  wrap=()
  [ "$mix" = bad ] && "$tokens_tool" remove "$gate_url" "$work/tokens.txt" 2>/dev/null
  "$tokens_tool" check "$gate_url" "$work/tokens.txt" "$count" "$mix" >"$work/check.$case.$count"
  # Every check answered as expected: valid ones 200, refused ones 401.
  local want=200
  [ "$mix" = bad ] && want=401
  grep -q "^status $want: $count\$" "$work/check.$case.$count" ||
    { echo "$case: $(tr '\n' ' ' <"$work/check.$case.$count")" >&2; exit 1; }
  kill -INT "$gate_pid" # the gate stops on Ctrl-C; callgrind then writes its totals
  wait "$gate_pid" 2>/dev/null || true
  total="$(sed -n 's/^\(summary\|totals\): *\([0-9]*\).*/\2/p' "$out" | head -1)"
  [ -n "$total" ] || { echo "$case: no totals in $out" >&2; exit 1; }
}

echo "load before: $(load)"
for case in healthz valid uncached refused; do
  measure "$case" "$small"
  a="$total"
  measure "$case" "$large"
  b="$total"
  echo "$case: $(( (b - a) / (large - small) )) instructions per check ($a for $small checks, $b for $large)"
done
echo "load after: $(load)"
