// Verifies tokens with the official Node SDK's TokenVerifier (livekit-server-sdk).
//
// Usage (after `npm ci` in interop/):
//   printf '%s %s %s\n' "$KEY" "$SECRET" "$TOKEN" | node interop/verify_tokens.mjs
// Reads lines `APIKEY SECRET TOKEN` from stdin (blank lines skipped) and prints one JSON line per
// token: {"ok":true,"identity":...,"video":{...}} or {"ok":false,"error":"..."}.
// Exits 1 if any token fails. The SDK checks the real clock with its default 10 s tolerance, so
// feed it freshly minted tokens.

import { createInterface } from 'node:readline';
import { TokenVerifier } from 'livekit-server-sdk';

let failed = 0;
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (!line.trim()) continue;
  const [key, secret, token, ...rest] = line.trim().split(/\s+/);
  let out;
  try {
    if (!token || rest.length) throw new Error('expected "APIKEY SECRET TOKEN"');
    const claims = await new TokenVerifier(key, secret).verify(token);
    out = { ok: true, identity: claims.sub ?? '', video: claims.video ?? null };
  } catch (e) {
    failed += 1;
    out = { ok: false, error: String(e?.message ?? e) };
  }
  console.log(JSON.stringify(out));
}
process.exit(failed ? 1 : 0);
