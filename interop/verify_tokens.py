"""Verifies tokens with the official Python SDK's TokenVerifier (livekit-api).

Usage (inside interop/.venv):
    printf '%s %s %s\n' "$KEY" "$SECRET" "$TOKEN" | python interop/verify_tokens.py
Reads lines `APIKEY SECRET TOKEN` from stdin (blank lines skipped) and prints one JSON line per
token: {"ok":true,"identity":...,"video":{...}} or {"ok":false,"error":"..."}; `video` is the
SDK's parsed VideoGrants with camelCase keys (the SDK fills in its defaults). Exits 1 if any token
fails. The SDK checks the real clock (leeway 60 s), so feed it freshly minted tokens.
"""

import dataclasses
import json
import sys

from livekit import api
from livekit.api.access_token import snake_to_lower_camel

failed = 0
for line in sys.stdin:
    if not line.strip():
        continue
    parts = line.split()
    try:
        if len(parts) != 3:
            raise ValueError('expected "APIKEY SECRET TOKEN"')
        key, secret, token = parts
        claims = api.TokenVerifier(key, secret).verify(token)
        video = {snake_to_lower_camel(k): v for k, v in dataclasses.asdict(claims.video).items()}
        out = {"ok": True, "identity": claims.identity, "video": video}
    except Exception as e:  # report every failure as a line, keep going
        failed += 1
        out = {"ok": False, "error": f"{type(e).__name__}: {e}"}
    print(json.dumps(out, ensure_ascii=False), flush=True)
sys.exit(1 if failed else 0)
