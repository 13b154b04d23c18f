#!/usr/bin/env bash
# Every `lkauth gate` benchmark in one run, in this order: through nginx against nginx alone
# (gate_nginx.sh), the gate's own checks per second on one core (gate_checks.sh), its RSS over
# a 60 s mixed load (gate_rss.sh), its instructions per check under callgrind
# (gate_callgrind.sh). Prints the machine, the load before each part and each part's summary;
# the full output (every round) goes to OUT (default gate_bench.log in the current directory).
#
#   benches/compare/scripts/gate_all.sh        # needs nginx, wrk, valgrind (scripts/install_tools.sh)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${OUT:-$PWD/gate_bench.log}"
: >"$out"
{
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs: $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | sort -u | tr '\n' ' ')"
  echo "nginx $("$(command -v nginx || echo /usr/sbin/nginx)" -v 2>&1 | sed 's|.*/||'), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), $(valgrind --version)"
} | tee -a "$out"
for part in gate_nginx gate_checks gate_rss gate_callgrind; do
  echo "== $part (load $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$out"
  "$here/$part.sh" 2>>"$out" | tee -a "$out"
done
