#!/usr/bin/env bash
# Requests per second through nginx with `lkauth gate` (an auth_request per request, the site
# of lkauth/proxies/nginx/livekit.conf as the tests run it: keep-alive to the gate, HTTP/1.1,
# `Connection ""`) against the same nginx proxying the same upstream without the check. wrk
# on 127.0.0.1, valid typical join tokens in `Authorization` on GET /rtc/validate; the
# upstream is a second nginx answering `200 ok`. Nothing is pinned: nginx (one process), the
# gate, the upstream and wrk share the machine. DURATION seconds per measurement (default 5),
# ROUNDS rounds (default 9), each running both cases in turn; prints the medians and the
# median of the per-round ratio gated/plain with its quartiles (a shared machine drifts by
# tens of percent within a minute; ratios taken seconds apart cancel most of it).
#
#   benches/compare/scripts/gate_nginx.sh      # needs nginx and wrk (scripts/install_tools.sh)
source "$(dirname "$0")/gate_lib.sh"
need nginx wrk python3
rounds="${ROUNDS:-9}"
build
"$tokens_tool" write "$work/tokens.txt" 1000 0 2>/dev/null

# The upstream: nginx answering 200.
up_port="$(free_port)"
mkdir -p "$work/upstream"
cat >"$work/upstream/site.conf" <<CONF
server {
    listen 127.0.0.1:$up_port;
    location / { return 200 "ok\n"; }
}
CONF
start_nginx upstream "$(nginx_main upstream "$work/upstream/site.conf")" "$up_port"

start_gate gate "" # the defaults: the livekit preset, the token cache
gate_addr="${gate_url#http://}"

# The proxy: the tests' site, plus the same proxying without the check on a second port.
gated="$(free_port)"
plain="$(free_port)"
mkdir -p "$work/proxy/logs"
sed -e "s|server 127.0.0.1:7888;|server $gate_addr;|" \
    -e "s|server 127.0.0.1:7880;|server 127.0.0.1:$up_port;|" \
    -e "s|listen 80;|listen 127.0.0.1:$gated;|" \
    -e "s|/var/log/nginx/|$work/proxy/logs/|" \
    lkauth/proxies/nginx/livekit.conf >"$work/proxy/site.conf"
cat >>"$work/proxy/site.conf" <<CONF

# The same proxying, without the gate.
server {
    listen 127.0.0.1:$plain;
    access_log $work/proxy/logs/plain.access.log livekit_redacted;
    location / {
        proxy_pass http://livekit;
        proxy_http_version 1.1;
        proxy_set_header Host \$host;
        proxy_set_header Upgrade \$http_upgrade;
        proxy_set_header Connection \$livekit_connection;
    }
}
CONF
start_nginx proxy "$(nginx_main proxy "$work/proxy/site.conf")" "$gated"
for port in "$gated" "$plain"; do
  code="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(head -1 "$work/tokens.txt")" \
    "http://127.0.0.1:$port/rtc/validate")"
  [ "$code" = 200 ] || { echo "127.0.0.1:$port/rtc/validate answered $code" >&2; exit 1; }
done

echo "load before: $(load)"
for round in $(seq 1 "$rounds"); do
  for case in plain gated; do
    port="$plain"; [ "$case" = gated ] && port="$gated"
    result="$(run_wrk "" "http://127.0.0.1:$port/rtc/validate" valid)"
    echo "$round $case $result" >>"$work/results"
    echo "round $round $case: ${result%% *} req/s" >&2
  done
done
echo "load after: $(load)"

awk '$4 != 0 || $5 != 0 {print "round " $1 " " $2 ": " $4 " non-2xx, " $5 " socket errors"; bad = 1}
  END {exit bad}' "$work/results" || { echo "every request must be answered 200" >&2; exit 1; }
for case in plain gated; do
  echo "$case: median $(awk -v c="$case" '$2 == c {print $3}' "$work/results" | stats | cut -d' ' -f1) req/s"
done
ratios="$(awk '$2 == "plain" {p[$1] = $3} $2 == "gated" {g[$1] = $3}
  END {for (r in p) if (r in g) print g[r] / p[r]}' "$work/results" | stats)"
set -- $ratios
echo "gated/plain per round: median $1 (quartiles $2 .. $3) over $rounds rounds of ${DURATION:-5} s, ${CONNECTIONS:-32} connections"
