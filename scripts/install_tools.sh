#!/usr/bin/env bash
# Installs, from Debian's packages, the programs the checks run as their own processes on
# 127.0.0.1, when they are missing: `install_tools.sh redis-server redis-sentinel nginx ...`
# (default: the Redis ones). The packages may start system services; they are stopped, since
# every check starts its own servers on free ports and stops them by PID.
set -euo pipefail
[ "$#" -gt 0 ] || set -- redis-server redis-cli redis-sentinel

package_of() {
  case "$1" in
    redis-server) echo redis-server ;;
    redis-cli) echo redis-tools ;;
    redis-sentinel) echo redis-sentinel ;;
    *) echo "$1" ;; # nginx, caddy, wrk, valgrind, hyperfine: the package is the command
  esac
}

# nginx lives in /usr/sbin, which a user's PATH may lack.
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

missing=()
for tool in "$@"; do
  have "$tool" || missing+=("$(package_of "$tool")")
done
[ "${#missing[@]}" -gt 0 ] || exit 0

echo "installing Debian's ${missing[*]} (missing on this machine)" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "no apt-get here: install ${missing[*]} with this system's package manager" >&2
  exit 1
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
for service in redis-server redis-sentinel nginx caddy; do
  ($sudo service "$service" stop || true) >/dev/null 2>&1
done
for tool in "$@"; do
  have "$tool" || { echo "$tool is still missing" >&2; exit 1; }
done
