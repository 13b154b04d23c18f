#!/usr/bin/env bash
# Installs Debian's redis-server package (redis-server and redis-cli) when either is missing:
# the Redis checks start their own server on 127.0.0.1 and need it on a fresh machine.
set -euo pipefail
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
  exit 0
fi
echo "redis-server is not installed: installing Debian's redis-server package" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
# The package may start a system redis on 6379; the checks run their own, on other ports.
($sudo service redis-server stop || true) >/dev/null 2>&1
command -v redis-server >/dev/null || { echo "redis-server is still missing" >&2; exit 1; }
