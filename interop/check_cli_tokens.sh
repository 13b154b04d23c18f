#!/usr/bin/env bash
# The token CLI's tokens (lkauth token create ...) must verify with the official
# TokenVerifier of the Node SDK (livekit-server-sdk) and of the Python SDK (livekit-api), both
# pinned in this directory. Run by .ci/run; needs Node 20 with npm and Python 3.11 with venv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$here"

bash setup.sh --python

cargo build --quiet -p lkauth --manifest-path "$root/Cargo.toml"
target="$("$root/scripts/target-dir.sh")"
cli="$target/debug/lkauth"

key="APIcliinterop1"
secret="cliInteropSecret0123456789abcdefghijklmnopq"
export LIVEKIT_API_KEY="$key" LIVEKIT_API_SECRET="$secret"
lines="$(mktemp)"
trap 'rm -f "$lines"' EXIT
mint() { printf '%s %s %s\n' "$key" "$secret" "$("$cli" token create "$@")" >>"$lines"; }
mint --identity alice --room myroom --join
mint --identity bob --name "Bob" --room stage --join --allow-source camera --allow-source microphone --valid-for 1h
mint --identity carol --room ops --join --metadata '{"role":"host"}' --attribute team=blue --attribute tier=1 --agent support-agent
mint --identity admin --room ops --admin --create --list --record --valid-for 10m
mint --identity plain

count="$(wc -l <"$lines")"
echo "Node livekit-server-sdk TokenVerifier:"
node verify_tokens.mjs <"$lines"
echo "Python livekit-api TokenVerifier:"
.venv/bin/python verify_tokens.py <"$lines"
echo "$count CLI tokens verified by both SDKs"
echo "$((count * 2)) passed, 0 failed"
