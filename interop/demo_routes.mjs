// The demo server's participant routes, called as a participant would (plain fetch, a bounded
// timeout), and the one token the SDKs cannot mint: one issued at a chosen time.
// Shared by room_service.mjs and room_service_peer.mjs.

import { createHmac } from 'node:crypto';

const TIMEOUT_MS = 10_000;

/** The demo's participant routes at `url`; each answers {status, refresh, body}. */
export function demoRoutes(url) {
  async function send(path, token, init = {}) {
    const response = await fetch(new URL(path, url), {
      ...init,
      headers: { Authorization: `Bearer ${token}`, ...(init.headers ?? {}) },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    return {
      status: response.status,
      refresh: response.headers.get('x-livekit-refresh-token'),
      body: await response.text(),
    };
  }
  return {
    /** GET /rtc/validate: passing it is the demo's stand-in for joining the room. */
    validate: (token) => send('/rtc/validate', token),
    /** GET /whoami: the token's claims as the demo sees them now. */
    whoami: (token) => send('/whoami', token),
    /** POST /rooms/{room}/publish with {"source": source}. */
    publish: (room, token, source) => send(`/rooms/${encodeURIComponent(room)}/publish`, token, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ source }),
    }),
  };
}

/**
 * `token` (an HS256 JWT, e.g. from the SDK's AccessToken) with its `nbf` set to `nbf` and signed
 * again with `secret` (node:crypto HMAC-SHA256). The SDKs always set `nbf` to now; a token
 * "minted after a revocation cutoff" in the future needs a later one, and a test may not wait
 * for the clock (a verifier accepts an `nbf` up to its 60 s leeway ahead).
 */
export function withNotBefore(token, nbf, secret) {
  const [header, payload] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  claims.nbf = nbf;
  const body = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = createHmac('sha256', secret).update(body).digest('base64url');
  return `${body}.${signature}`;
}
