#!/usr/bin/env bash
# The gate's memory under a long mixed load: `lkauth gate` (its defaults: the token cache of
# 10,000 tokens on) pinned to CPU 0, wrk pinned to CPU 1 asking its /auth nginx's way for
# DURATION seconds (default 60), every line of the token file in turn: VALID distinct valid
# tokens (default 20,000, twice the cache), REVOKED tokens of participants removed through the
# gate's RoomService first (default 1,000), 64 expired and 64 forged ones. VmRSS of
# /proc/PID/status is sampled every second; prints the series, then the first, minimum,
# maximum and last samples and the growth from 10 s to the end.
#
#   benches/compare/scripts/gate_rss.sh        # needs wrk (scripts/install_tools.sh wrk)
source "$(dirname "$0")/gate_lib.sh"
need wrk taskset python3
duration="${DURATION:-60}"
build
"$tokens_tool" write "$work/tokens.txt" "${VALID:-20000}" "${REVOKED:-1000}"
start_gate gate 0
"$tokens_tool" remove "$gate_url" "$work/tokens.txt"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$gate_pid/status"; }
echo "load before: $(load)"
echo "RSS before the load: $(rss) KiB"
( for _ in $(seq 1 "$duration"); do sleep 1; rss; done ) >"$work/rss.txt" &
sampler=$!
DURATION="$duration" run_wrk 1 "$gate_url/auth" all /rtc/validate >"$work/result"
wait "$sampler" || true
echo "load after: $(load)"
read -r rps non2xx errors requests <"$work/result"
echo "checks: $requests in ${duration} s, $rps/s ($non2xx refused, $errors socket errors)"
awk '{print $3 " " $4}' "$work/statuses" | sort | awk '{print "  status " $1 ": " $2}'
echo "RSS (KiB) each second: $(tr '\n' ' ' <"$work/rss.txt")"
awk 'NR == 1 {first = $1; min = $1; max = $1} NR == 10 {ten = $1}
  {if ($1 < min) min = $1; if ($1 > max) max = $1; last = $1}
  END {printf "RSS KiB: first %d, min %d, max %d, last %d; from 10 s to the end %+d KiB (%+.1f%%)\n",
       first, min, max, last, last - ten, 100 * (last - ten) / ten}' "$work/rss.txt"
