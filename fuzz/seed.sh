#!/usr/bin/env bash
# Builds the seed corpora of the fuzz targets from the spec's test vectors and the interop
# fixtures (tests/fixtures/tokens.json). Small on purpose (< 200 files); run from anywhere:
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

def write(target, data):
    d = os.path.join("corpus", target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
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
for target in ("verify", "claims", "differential"):
    print(target, len(os.listdir(os.path.join("corpus", target))), "seed files")
PY
