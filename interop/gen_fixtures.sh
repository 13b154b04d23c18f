#!/usr/bin/env bash
# Regenerates tests/fixtures/tokens.json and tests/fixtures/webhooks.json with the official SDKs.
#
#   bash interop/gen_fixtures.sh
#
# Needs Node >= 20 with npm, and Python 3.11 with venv; reaches the npm and PyPI registries.
# 1. installs livekit-server-sdk (package-lock.json) and livekit-api (requirements.txt, in .venv)
# 2. gen_fixtures.mjs mints the Node token cases and the webhook fixtures (and checks the webhook
#    fixtures with the SDK's own WebhookReceiver)
# 3. gen_fixtures.py mints the Python cases, builds the Go-shaped and quirk cases by hand and
#    merges everything into tests/fixtures/tokens.json
# 4. the freshly minted SDK tokens are verified with both SDKs' TokenVerifier (verify_tokens.*)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$here"

bash setup.sh --python

mkdir -p build "$root/tests/fixtures"
node gen_fixtures.mjs build/node_cases.json "$root/tests/fixtures/webhooks.json"
.venv/bin/python gen_fixtures.py build/node_cases.json "$root/tests/fixtures/tokens.json"

# Cross-check: every SDK-minted accepted case whose `now` is the present must verify with both
# official verifiers (their clocks cannot be injected, so older cases are left out).
.venv/bin/python - "$root/tests/fixtures/tokens.json" > build/fresh.txt <<'PY'
import json, sys, time
d = json.load(open(sys.argv[1]))
for c in d["cases"]:
    if c["origin"] in ("node", "python") and c["expect"] == "accept" and abs(c["now"] - time.time()) < 30:
        key = c["claims"]["apiKey"]
        print(key, d["keys"][key], c["token"])
PY
node verify_tokens.mjs < build/fresh.txt > build/verify_node.out
.venv/bin/python verify_tokens.py < build/fresh.txt > build/verify_python.out
echo "cross-check: $(wc -l < build/fresh.txt) fresh SDK tokens verified by both SDKs"
