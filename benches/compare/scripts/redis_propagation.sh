#!/usr/bin/env bash
# Propagation across replicas with the participant state in Redis (issue 12): 1,000 updates
# and 1,000 revocations, p50/p99 in milliseconds and the number lost after convergence, at the
# library level (three ParticipantState::redis in one process) and end to end over HTTP (three
# `lkauth serve` processes, release build, twirp writes, GET /whoami reads). Starts its own
# redis-server on 127.0.0.1. Extra arguments go to benches/compare's `propagation` binary
# (e.g. --poll-us 50, --updates 5000).
set -euo pipefail
cd "$(dirname "$0")/../../.."
scripts/install_tools.sh
server="$(scripts/build_lkauth.sh --release)"
cargo build --quiet --release --manifest-path benches/compare/Cargo.toml --bin propagation
echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "redis: $(redis-server --version)"
timeout 300 benches/compare/target/release/propagation --http --server "$server" "$@"
