#!/usr/bin/env bash
# Builds the seed corpora of the fuzz targets from the spec's test vectors, the interop
# fixtures (tests/fixtures/tokens.json, webhooks.json) and token requests in the JS client's
# shape. Small on purpose (< 300 files); run from anywhere:
#   bash fuzz/seed.sh
set -euo pipefail
cd "$(dirname "$0")"
rm -rf corpus
python3 - <<'PY'
import base64, hashlib, json, os, re

root = os.path.dirname(os.path.abspath("."))
spec = os.path.join(root, "..", "shared", "spec", "livekit-tokens.md")
fixtures = json.load(open(os.path.join(root, "tests", "fixtures", "tokens.json")))

tokens = [c["token"] for c in fixtures["cases"]]
if os.path.exists(spec):
    tokens += re.findall(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*", open(spec).read())
tokens = sorted(set(tokens))

def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

def write(target, data, name=None):
    d = os.path.join("corpus", target)
    os.makedirs(d, exist_ok=True)
    name = name or hashlib.sha1(data).hexdigest()[:16]
    open(os.path.join(d, name), "wb").write(data)

headers = set()
for i, t in enumerate(tokens[:50]):
    write("verify", t.encode())
    parts = t.split(".")
    try:
        header, payload = b64d(parts[0]), b64d(parts[1])
    except Exception:
        continue
    write("claims", payload)
    # differential: mode 1 (payload JSON) for each, mode 2 (header JSON) for each distinct
    # header, mode 0 (whole token) for a few.
    write("differential", b"\x01" + payload)
    if header not in headers:
        headers.add(header)
        write("differential", b"\x02" + header)
    if i % 5 == 0:
        write("differential", b"\x00" + t.encode())

# Hand-written hostile seeds.
for seed in [b"", b"..", b"a.b.c", b"eyJhbGciOiJub25lIn0.e30.", b" " * 8]:
    write("verify", seed)
write("claims", b'{"video":{"canPublish":false},"roomConfig":{"agents":[{"agent_name":"a"}]}}')
write("differential", b"\x03\x40A\x80.\xff=")

# extract: header values, `\n`, then the query string.
for name, seed in [("basic", b"Basic dXNlcjpw\naccess_token=a%2Eb"), ("bearer", b"Bearer a.b.c\n"),
                   ("query", b"\naccess_token=a.b.c&x=1"),
                   ("two", b"bearer  x.y.z\raccess_token\naccess_token=q")]:
    write("extract", seed, name)

# endpoint: 9 control bytes (see fuzz_targets/endpoint.rs), then the body; requests in the
# shape the JS client's endpoint TokenSource sends (snake_case: LiveKit's TokenSourceRequest).
requests = [
    {},
    {"room_name": "support", "participant_identity": "u1", "participant_name": "U One",
     "participant_metadata": "{\"a\":1}", "participant_attributes": {"role": "admin"},
     "room_config": {"max_participants": 2, "agents": [{"agent_name": "helper", "metadata": "m"}]}},
    {"room_name": "r", "participant_name": "n"},
    {"room_config": {"agents": [{"agent_name": "helper"}]}},
    {"room_config": {"egress": {"room": {"file_outputs": []}}}},
    {"room_config": {"emptyTimeout": "60", "departure_timeout": 5, "agents": None, "tags": {"t": "v"}}},
]
# (head, content type, policy, grant, own metadata length, verifier, body limit, status, status)
controls = [
    (0x00, 1, 0x0F, 0x00, 0, 0, 0, 0, 0),    # POST, JSON, accept everything, join
    (0x38, 2, 0x04, 0x08, 0, 0, 0, 0, 0),    # head check passed, right length, agents only
    (0x00, 3, 0x1F, 0x0C, 0, 200, 0, 0, 0),  # allow egress, small token limit
    (0x40, 1, 0x80, 0x00, 0, 0, 0, 44, 1),   # a refusal (status 400), a short length
    (0x00, 1, 0xC8, 0x41, 200, 0, 0, 0, 0),  # own egress config, long own metadata
    (0x00, 1, 0x00, 0x31, 0, 0, 0, 1, 0),    # exp at 2^53 exactly
    (0x00, 1, 0x00, 0x21, 0, 0, 0, 0, 0),    # TTL Duration::MAX: un-mintable, 500
    (0x00, 1, 0x0F, 0x01, 0, 230, 0, 0, 0),  # the key removed from the ring: 503
]
for i, request in enumerate(requests):
    body = json.dumps(request, separators=(",", ":")).encode()
    for control in (controls if i < 2 else [controls[0], controls[2 + i]]):
        write("endpoint", bytes(control) + body)
# The head's refusals and odd types: GET, a missing session, non-ASCII and raw types, huge
# and unparsable lengths, a small body limit.
body = json.dumps(requests[1], separators=(",", ":")).encode()
for seed in [b'{"room_name":5}', b"[]", b'{"room_name":"a","room_name":"b"}', b"{"]:
    write("endpoint", bytes(controls[0]) + seed)
for head, ct, limit, raw in [(0x05, 1, 0, None), (0x08, 1, 0, None), (0x00, 9, 0, b"; charset=\xe9"),
                             (0x00, 8, 0, b"application/vnd.livekit+json"), (0x00, 5, 0, None),
                             (0x80, 1, 0, None), (0xA0, 1, 0, None), (0x00, 1, 130, None)]:
    prefix = bytes([head, ct, 0x0F, 0x00, 0, 0, limit, 0, 0])
    write("endpoint", prefix + (raw + b"\n" if raw is not None else b"") + body)

# webhook: 3 control bytes (see fuzz_targets/webhook.rs), extra bytes, `\n`, the body; the
# bodies and the LiveKit server's own tokens of tests/fixtures/webhooks.json.
webhooks = json.load(open(os.path.join(root, "tests", "fixtures", "webhooks.json")))
bodies = sorted({c["body"] for c in webhooks["cases"]})
for case in webhooks["cases"]:
    extra = (case["authorization"] or "").encode()
    write("webhook", bytes([0x09, 0, 0]) + extra + b"\n" + case["body"].encode())
for body in bodies:
    body = body.encode()
    for control, extra in [((0x00, 0, 0), b""), ((0x90, 0, 0x05), b""),
                           ((0x04, 0, 0), b"{}"), ((0x00, 0, 0x40), b""),
                           ((0x00, 200, 0x80), b""), ((0x6C, 0, 0), b"x")]:
        write("webhook", bytes(control) + extra + b"\n" + body)
# The other token modes once each; a declared length over the limit; a body that is not JSON.
for mode in (5, 6, 7, 8, 10, 11, 14, 15, 0x60):
    write("webhook", bytes([mode, 0, 0]) + b"\n" + b'{"event":"room_started"}')
write("webhook", bytes([0x00, 0, 0]) + b"\n" + b"not json")

for target in ("verify", "claims", "differential", "extract", "endpoint", "webhook"):
    print(target, len(os.listdir(os.path.join("corpus", target))), "seed files")
PY
