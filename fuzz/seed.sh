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

# config: a control byte (bit 0: load_with and the environment; bit 1: the text is
# LIVEKIT_CONFIG), the YAML text, then `\0` and variables (a byte indexing VARS in
# fuzz_targets/config.rs, the value, `\0`). Secrets planted with the marker PLANTED.
sample = open(os.path.join(root, "tests", "fixtures", "livekit", "config-sample.yaml"), "rb").read()
planted = (sample.replace(b"  # password: mypassword", b"  password: redis-PLANTED-pw")
                 .replace(b"  key2: secret2", b"  key2: PLANTEDsecret0123456789abcdefghijklmn"))
redis_blocks = {
    "standalone": b"redis:\n  address: redis.host:6379\n  username: lk\n  password: PLANTED-standalone\n  db: 2\n  use_tls: true\n",
    "sentinel": b"redis:\n  sentinel_master_name: livekit\n  sentinel_addresses:\n  - 10.0.0.1:26379\n  - 10.0.0.2:26379\n  sentinel_username: su\n  sentinel_password: PLANTED-sentinel\n  password: PLANTED-master\n  dial_timeout: 1500\n",
    "cluster": b"redis:\n  cluster_addresses: [10.0.0.1:7000, '10.0.0.2:7000']\n  password: PLANTED-cluster\n  max_redirects: -1\n  pool_size: 20\n  pool_timeout: 4s\n",
    "tls": b"redis:\n  address: r:6380\n  password: PLANTED-tls\n  tls:\n    enabled: true\n    insecure: false\n    server_name: r.internal\n    ca_cert_file: /nonexistent/ca.crt\n    client_cert_file: /nonexistent/c.crt\n    client_key_file: /nonexistent/c.key\n",
}
keys = b"keys:\n  APIplanted: PLANTEDsecret0123456789abcdefghijklmn\n  devkey: PLANTEDshort\n"
limits = b"limit:\n  max_metadata_size: 0x1000\n  max_attributes_size: 1_024\n  max_participant_name_length: 64\nroom:\n  max_room_name_length: 12\n"
configs = [sample, planted, keys, keys + limits, b"development: true\n", b"key_file: $HOME/keys.yaml\n" + keys,
           b"redis:\n  db: first\n", b"keys: [PLANTEDlisted]\n", b"redis:\n  password: [PLANTEDpw]\n",
           b"redis:\n  password: \"PLANTED-unterminated\n", b"keys:\n  APIk: PLANTEDsecret\n bad: [\n",
           b"keys: &a\n  APIk: PLANTEDaliased0123456789abcdefghijk\nother: *a\n", b"redis:\n  <<: {password: PLANTEDmerged}\n",
           b"redis:\n  sentinel_addresses: [a:1]\n  password: PLANTED-nomaster\n",
           b"limit:\n  max_metadata_size: -1\n", b"keys:\n  APIk: !!binary UExBTlRFRA==\n"]
configs += [block + keys for block in redis_blocks.values()]
for i, text in enumerate(configs):
    write("config", b"\x00" + text)
    if i % 2 == 1 or b"redis" in text:
        write("config", b"\x03" + text)
VARS = ["LIVEKIT_KEYS", "REDIS_HOST", "REDIS_PASSWORD", "LIVEKIT_KEY_FILE", "LIVEKIT_DEVELOPMENT",
        "LIVEKIT_REDIS_ADDRESS", "LIVEKIT_REDIS_USERNAME", "LIVEKIT_REDIS_PASSWORD", "LIVEKIT_REDIS_DB",
        "LIVEKIT_REDIS_USE_TLS", "LIVEKIT_REDIS_SENTINEL_MASTER_NAME", "LIVEKIT_REDIS_SENTINEL_USERNAME",
        "LIVEKIT_REDIS_SENTINEL_PASSWORD", "LIVEKIT_REDIS_DIAL_TIMEOUT", "LIVEKIT_REDIS_READ_TIMEOUT",
        "LIVEKIT_REDIS_WRITE_TIMEOUT", "LIVEKIT_REDIS_MAX_REDIRECTS", "LIVEKIT_REDIS_POOL_TIMEOUT",
        "LIVEKIT_REDIS_POOL_SIZE", "LIVEKIT_LIMIT_MAX_METADATA_SIZE", "LIVEKIT_LIMIT_MAX_ATTRIBUTES_SIZE",
        "LIVEKIT_LIMIT_MAX_ROOM_NAME_LENGTH", "LIVEKIT_LIMIT_MAX_PARTICIPANT_IDENTITY_LENGTH",
        "LIVEKIT_LIMIT_MAX_PARTICIPANT_NAME_LENGTH", "LIVEKIT_ROOM_MAX_METADATA_SIZE",
        "LIVEKIT_ROOM_MAX_ROOM_NAME_LENGTH", "LIVEKIT_ROOM_MAX_PARTICIPANT_IDENTITY_LENGTH", "HOME"]
def env(pairs):
    return b"".join(bytes([VARS.index(var)]) + value + b"\x00" for var, value in pairs)
envs = [
    [("LIVEKIT_KEYS", b"APIenv: PLANTEDenvsecret0123456789abcdefghijk"), ("REDIS_HOST", b"redis.internal:6379"),
     ("REDIS_PASSWORD", b"PLANTED-env-redis")],
    [("LIVEKIT_REDIS_SENTINEL_MASTER_NAME", b"m"), ("LIVEKIT_REDIS_SENTINEL_PASSWORD", b"PLANTED-env-sentinel"),
     ("LIVEKIT_REDIS_PASSWORD", b"PLANTED-env-generated"), ("LIVEKIT_REDIS_DB", b"0x0A")],
    [("LIVEKIT_REDIS_DB", b"two"), ("REDIS_PASSWORD", b"PLANTED-env-bad-db")],
    [("LIVEKIT_KEYS", b"- PLANTEDlisted"), ("LIVEKIT_DEVELOPMENT", b"on")],
    [("LIVEKIT_KEYS", b"k: [PLANTEDunclosed"), ("LIVEKIT_LIMIT_MAX_METADATA_SIZE", b"4294967296")],
    [("LIVEKIT_KEY_FILE", b"~/keys-$REDIS_PASSWORD"), ("HOME", b"/home/lk"), ("REDIS_PASSWORD", b"PLANTED-in-path")],
    [("LIVEKIT_REDIS_ADDRESS", b"a:1"), ("LIVEKIT_REDIS_MAX_REDIRECTS", b"-2"), ("LIVEKIT_REDIS_POOL_TIMEOUT", b"4000000000"),
     ("LIVEKIT_LIMIT_MAX_ROOM_NAME_LENGTH", b""), ("LIVEKIT_REDIS_USE_TLS", b"T")],
]
for i, pairs in enumerate(envs):
    text = [b"", keys, redis_blocks["standalone"], redis_blocks["sentinel"], planted][i % 5]
    write("config", b"\x03" + text + b"\x00" + env(pairs))
    write("config", b"\x01" + b"\x00" + env(pairs))

# state: 4 setup bytes, then operations (see fuzz_targets/state.rs): bounds (3 in all, 2 per
# room), limits (name 6, metadata 16, attributes 16, identity 256, room 256), retention 60 s,
# leeway 60 s.
SETUP = bytes([3 + 6 * 2, 2 | 3 << 2 | 3 << 4 | 3 << 6, 3 | 4 << 2 | 3 << 5, 0])
def update(room=0, ident=0, name=0x03, meta=None, perm=None, attrs=()):
    shape = (1 if name is not None else 0) | (2 if meta is not None else 0) | (4 if perm else 0) | len(attrs) << 3
    out = bytes([0, room, ident, shape])
    if name is not None: out += bytes([name])
    if meta is not None: out += bytes([meta])
    if perm: out += bytes([perm[0], len(perm[1])] + list(perm[1]))
    for key, value in attrs: out += bytes([key, value])
    return out
def revoke(room=0, ident=0, cutoff=0, remove=False, extra=b""):
    return bytes([4 if remove else 3, room, ident, cutoff]) + extra
def clock(b, kind):
    return bytes([5, b, kind])
def verify(room=0, ident=0, b=0, nbf=1, flags=0x0C, name=0x02, meta=0x00):
    return bytes([6, room, ident, b, nbf, flags, name, meta])
sequences = [
    # An update applies to the token issued in its second and before, not after.
    update(perm=(0x03, [1]), attrs=[(0, 0x01), (4, 0x00)]) + verify(nbf=1) + clock(2, 2) + verify(nbf=1) + verify(b=1, nbf=2),
    # A revocation (now + leeway), a token minted before and after it; then a removal.
    revoke() + verify(nbf=1) + clock(61, 2) + verify(nbf=1) + verify(b=1, nbf=3) + update(name=0x04) + revoke(remove=True, cutoff=1) + verify(nbf=4),
    # The bounds: 3 in all, 2 per room; then expiry frees room.
    update(ident=0) + update(ident=3) + update(ident=5) + update(room=3, ident=0) + update(room=3, ident=3) + clock(0, 4) + update(room=5, ident=5),
    # Clocks that disagree: a demotion, the clock back, a promotion; tokens between.
    update(perm=(0x02, [])) + clock(10, 3) + update(perm=(0xFF, [1, 2])) + verify(b=0, nbf=2) + verify(b=2, nbf=2) + verify(b=0xF6, nbf=0),
    # The ends of time, and back.
    revoke(cutoff=2) + clock(3, 5) + update() + verify(nbf=1) + clock(4, 5) + verify(nbf=1) + clock(0, 7) + verify(nbf=4) + revoke(cutoff=6, extra=bytes(8)),
    # Sizes: attributes that outgrow the limit with deleted keys, names past their limit.
    update(attrs=[(5, 0x04), (0, 0x04)]) + update(attrs=[(2, 0x00), (3, 0x00)]) + update(name=0x1f) + update(room=7, ident=7) + update(room=6, ident=0),
    # Unknown source numbers and every flag.
    update(perm=(0xFF, [6, 7, 8])) + verify(nbf=1, flags=0xFF) + update(perm=(0x02, [9, 5])) + verify(nbf=4),
]
for i, seq in enumerate(sequences):
    write("state", SETUP + seq)
# The same first sequences with other settings: no retention, tight bounds, no limits.
for setup in (bytes([1 + 6 * 1, 0x55, 0x01, 0]), bytes([5 + 6 * 4, 0x00, 0x00 | 7 << 2 | 5 << 5, 0]),
              bytes([2 + 6 * 1, 0xAA, 0x02 | 1 << 2 | 0 << 5, 0])):
    for seq in sequences[:4]:
        write("state", setup + seq)

for target in ("verify", "claims", "differential", "extract", "endpoint", "webhook", "config", "state"):
    print(target, len(os.listdir(os.path.join("corpus", target))), "seed files")
PY
