#!/usr/bin/env bash
# Redis killed for 10 s under load (issue 12), two scenarios, ~50 s in all: three `lkauth serve`
# replicas (`--redis`, release build) on one redis-server on 127.0.0.1, a bounded loopback load
# on all of them (6 clients, 3000 requests/s in all: valid tokens, tokens of participants
# removed before the outage, promoted participants' original tokens), Redis killed (SIGKILL)
# and restarted. benches/compare's `outage` binary does the work and prints, by phase, what
# every request got, the writes tried during the outage and the time to converge.
#
#   benches/compare/scripts/redis_outage.sh            # both scenarios
#   benches/compare/scripts/redis_outage.sh aof        # only the one with persistence
#
# 1. `aof`: Redis with `appendonly yes` (`appendfsync everysec`), its data directory kept across
#    the restart: the revocations survive. Must show 0 5xx, 0 removed tokens accepted, 0
#    promotions lost, every write during the outage refused as `unavailable`, convergence.
# 2. `none`: Redis without persistence: it restarts empty and the replicas follow it at their
#    first resync, so the removed tokens work again (documented in SECURITY.md).
# Exits 1 if a scenario does not behave as described. Every process is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/../../.."
[ $# -gt 0 ] || set -- aof none

scripts/install_tools.sh
server="$(scripts/build_lkauth.sh --release)"
cargo build --quiet --release --manifest-path benches/compare/Cargo.toml --bin outage
outage=benches/compare/target/release/outage

echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "redis: $(redis-server --version)"
status=0
for scenario in "$@"; do
  case "$scenario" in
    aof) args=(--persistence aof --before 5 --outage 10 --after 10) ;;
    none) args=(--persistence none --before 3 --outage 10 --after 7) ;;
    *) echo "unknown scenario $scenario (aof, none)" >&2; exit 2 ;;
  esac
  echo
  echo "== scenario $scenario: $outage --server $server ${args[*]}"
  timeout 120 "$outage" --server "$server" "${args[@]}" || status=1
done
exit "$status"
