#!/usr/bin/env bash
# The first build of a server, as a new user meets it: a fresh clone of this repository at REV
# into a temporary directory (no target/: nothing of the project prebuilt; the machine's
# crates.io registry cache is used as it is, so no download is timed), then CMD, which must
# serve on 127.0.0.1:PORT, under /usr/bin/time -v until GET / answers. Prints the load average
# before and after, the wall time to the first answer and time -v's report; stops the process
# group it started and removes the clone.
#
#   benches/compare/scripts/first_build.sh HEAD 7990 cargo run -p lkauth -- serve --bind 127.0.0.1:7990
#   benches/compare/scripts/first_build.sh f161c14 7991 cargo run --example server -- --bind 127.0.0.1:7991
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,10p' "$0"; exit 2; }
rev="$1" port="$2"
shift 2
root="$(cd "$(dirname "$0")/../../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone --quiet "$root" "$work/clone"
git -C "$work/clone" checkout --quiet "$(git -C "$root" rev-parse "$rev")"
cd "$work/clone"
echo "$rev ($(git rev-parse --short HEAD)): $*"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
/usr/bin/time -v -o "$work/time" bash -c '
  setsid "$@" >"'"$work"'/log" 2>&1 &
  pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:'"$port"'/"; do
    kill -0 "$pid" 2>/dev/null || { cat "'"$work"'/log"; echo "exited before answering"; exit 1; }
    sleep 0.2
  done
  kill -- -"$pid"; wait "$pid" 2>/dev/null || true
' _ "$@"
end=$(date +%s.%N)
echo "answered after $(python3 -c "print(round($end - $start, 1))") s; crates compiled: $(grep -c Compiling "$work/log")"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -E 'User time|System time|Elapsed|Maximum resident' "$work/time"
