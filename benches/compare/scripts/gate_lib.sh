# Shared by the lkauth gate benchmarks (gate_*.sh; sourced, not run): the builds, the tokens,
# the gate and nginx as our own processes on 127.0.0.1 (stopped by PID when the script ends),
# wrk, medians.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
scripts="$root/benches/compare/scripts"
cd "$root"

# The benchmark's key (lkauth/src/typical_token.rs, as `lkauth token bench`): public.
export LIVEKIT_KEYS="APIbenchhttp01: benchHttpSecret0123456789abcdefghijklmnopqr"

need() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] ||
      { echo "$tool is not installed: bash scripts/install_tools.sh $tool" >&2; exit 1; }
  done
}
nginx_bin() { command -v nginx 2>/dev/null || echo /usr/sbin/nginx; }

work="$(mktemp -d "${TMPDIR:-/tmp}/lkauth-gate-bench.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

# Release builds: lkauth (the workspace) and gate_tokens (benches/compare's own workspace).
build() {
  cargo build --quiet --release -p lkauth
  cargo build --quiet --release --manifest-path benches/compare/Cargo.toml --bin gate_tokens
  lkauth="$(scripts/target-dir.sh)/release/lkauth"
  tokens_tool="$root/benches/compare/target/release/gate_tokens"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_gate NAME [CPU|""] [lkauth gate args...]: starts `lkauth gate --bind 127.0.0.1:0`
# (pinned to CPU when given, under the command in the array `wrap` when set), waits for it;
# sets gate_pid and gate_url.
wrap=()
start_gate() {
  local name="$1" cpu="$2"
  shift 2
  local pin=()
  [ -n "$cpu" ] && pin=(taskset -c "$cpu")
  "${pin[@]}" "${wrap[@]}" "$lkauth" gate --bind 127.0.0.1:0 "$@" >"$work/$name.out" 2>"$work/$name.err" &
  gate_pid=$!
  pids+=("$gate_pid")
  for _ in $(seq 1 "${GATE_WAIT:-100}"); do
    grep -q '^listening on ' "$work/$name.out" 2>/dev/null && break
    sleep 0.2
  done
  gate_url="$(sed -n 's/^listening on //p' "$work/$name.out")"
  [ -n "$gate_url" ] || { echo "the gate $name did not start:" >&2; cat "$work/$name.err" >&2; exit 1; }
}

# start_nginx NAME CONF PORT: nginx as one process (daemon off, master_process off) on CONF,
# its pid, logs and temporary files under $work/NAME; waits until PORT answers.
start_nginx() {
  local name="$1" conf="$2" port="$3"
  mkdir -p "$work/$name/logs"
  "$(nginx_bin)" -p "$work/$name/" -c "$conf" -e "$work/$name/logs/startup.log" \
    >"$work/$name/stdout" 2>"$work/$name/stderr" &
  pids+=("$!")
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nginx $name did not start:" >&2
  cat "$work/$name/stderr" "$work/$name/logs/"* >&2
  exit 1
}

# nginx's main file around an http-level INCLUDE, everything under $work/NAME.
nginx_main() {
  local name="$1" include="$2" d="$work/$1"
  mkdir -p "$d"
  cat >"$d/nginx.conf" <<CONF
daemon off;
master_process off;
pid $d/nginx.pid;
error_log $d/logs/main.error.log error;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $d/tmp-body;
    proxy_temp_path $d/tmp-proxy;
    fastcgi_temp_path $d/tmp-fastcgi;
    uwsgi_temp_path $d/tmp-uwsgi;
    scgi_temp_path $d/tmp-scgi;
    include $include;
}
CONF
  echo "$d/nginx.conf"
}

# run_wrk CPU|"" URL MIX [ORIGINAL] -> "requests/s non-2xx socket-errors requests"; the
# answers by status on stderr, and as "MIX URL STATUS COUNT" lines in $work/statuses.
run_wrk() {
  local cpu="$1" url="$2" mix="$3" original="${4:-}" out pin=()
  [ -n "$cpu" ] && pin=(taskset -c "$cpu")
  out="$(TOKENS_FILE="$work/tokens.txt" MIX="$mix" ORIGINAL="$original" "${pin[@]}" \
    wrk -t1 -c"${CONNECTIONS:-32}" -d"${DURATION:-5}s" -s "$scripts/gate_tokens.lua" "$url")"
  echo "$out" | grep -E '^status|Non-2xx|Socket errors' | sed 's/^/    /' >&2
  echo "$out" | sed -n "s|^status \([0-9]*\): \([0-9]*\)|$mix $url \1 \2|p" >>"$work/statuses"
  echo "$out" | awk '/Requests\/sec/ {rps = $2} /Non-2xx/ {bad = $NF}
    /Socket errors/ {gsub(",", ""); errors = $4 + $6 + $8 + $10}
    / requests in / {requests = $1}
    END {print rps, bad + 0, errors + 0, requests + 0}'
}

# cpu_ticks PID: the user + system CPU time PID has used, in clock ticks (getconf CLK_TCK).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Reads numbers on stdin: "median q1 q3".
stats() {
  sort -g | awk '{a[NR] = $1}
    function q(p,  i) { i = 1 + (NR - 1) * p; return a[int(i)] + (i - int(i)) * (a[int(i) + 1] - a[int(i)]) }
    function f(x) { return x >= 100 ? sprintf("%.0f", x) : sprintf("%.3f", x) }
    END { if (NR == 0) { print "- - -"; exit } print f(q(0.5)), f(q(0.25)), f(q(0.75)) }'
}

load() { cut -d' ' -f1-3 /proc/loadavg; }
