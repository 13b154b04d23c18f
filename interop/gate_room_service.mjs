// Interop check: the official Node RoomServiceClient (livekit-server-sdk) pointed at `lkauth
// gate`, whose --livekit-url is a second server standing in for LiveKit (`lkauth serve`). One
// removeParticipant removes the participant in LiveKit AND closes the gate on its token: the
// gate's /auth (as nginx, Caddy and Traefik ask it) refuses the token from then on. When
// LiveKit cannot be reached, the SDK gets a twirp `unavailable` saying the gate recorded the
// removal and that retrying is safe, and the door is closed anyway.
//
// Usage (after `npm ci` in interop/; interop/gate_room_service.sh starts the servers):
//   LIVEKIT_URL=<gate> LIVEKIT_STAND_IN_URL=<serve> GATE_WITHOUT_LIVEKIT_URL=<gate, dead
//   --livekit-url> LIVEKIT_API_KEY=... LIVEKIT_API_SECRET=... node interop/gate_room_service.mjs
//
// Prints one line per check, then "N passed, M failed"; exits 1 on any failure.

import { AccessToken, RoomServiceClient } from 'livekit-server-sdk';
import { check, expect, expectServerError, finish } from './checks.mjs';

const gateUrl = process.env.LIVEKIT_URL;
const livekitUrl = process.env.LIVEKIT_STAND_IN_URL;
const orphanUrl = process.env.GATE_WITHOUT_LIVEKIT_URL;
const apiKey = process.env.LIVEKIT_API_KEY;
const apiSecret = process.env.LIVEKIT_API_SECRET;
if (!gateUrl || !livekitUrl || !orphanUrl || !apiKey || !apiSecret) {
  console.error('set LIVEKIT_URL, LIVEKIT_STAND_IN_URL, GATE_WITHOUT_LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET');
  process.exit(2);
}
const ROOM = 'gate-interop';
const TIMEOUT_MS = 10_000;
const opts = { requestTimeout: 10, failover: false };

const viaGate = new RoomServiceClient(gateUrl, apiKey, apiSecret, opts);
const livekit = new RoomServiceClient(livekitUrl, apiKey, apiSecret, opts);
const orphan = new RoomServiceClient(orphanUrl, apiKey, apiSecret, opts);

async function joinToken(identity) {
  const at = new AccessToken(apiKey, apiSecret, { identity, name: identity });
  at.addGrant({ roomJoin: true, room: ROOM });
  return at.toJwt();
}

/** GET `path` on `base` with `token` as a bearer token: {status, body}. */
async function get(base, path, token) {
  const response = await fetch(new URL(path, base), {
    headers: { Authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  return { status: response.status, body: await response.text() };
}

/**
 * Asks the gate at `base` about `GET uri` the way `style` does (nginx: X-Original-*; caddy:
 * X-Forwarded-*), with `token` in Authorization unless it is null: {status, headers, body}.
 */
async function gateCheck(base, style, uri, token) {
  const headers = style === 'nginx'
    ? { 'X-Original-URI': uri, 'X-Original-Method': 'GET' }
    : { 'X-Forwarded-Uri': uri, 'X-Forwarded-Method': 'GET', 'X-Forwarded-Host': 'lk.example' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(new URL('/auth', base), {
    headers,
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

const bob = await joinToken('bob');
const carol = await joinToken('carol');

await check('bob and carol join LiveKit (its /rtc/validate)', async () => {
  for (const token of [bob, carol]) {
    const r = await get(livekitUrl, '/rtc/validate', token);
    expect(r.status === 200, `${r.status} ${r.body}`);
  }
});
await check('the gate lets bob through, with his identity for the upstream', async () => {
  for (const style of ['nginx', 'caddy']) {
    const r = await gateCheck(gateUrl, style, `/rtc?access_token=${bob}`, null);
    expect(r.status === 200, `${style}: ${r.status} ${r.body}`);
    expect(r.headers.get('x-livekit-identity') === 'bob', `${style}: identity ${r.headers.get('x-livekit-identity')}`);
    expect(r.headers.get('x-livekit-room') === ROOM, `${style}: room ${r.headers.get('x-livekit-room')}`);
  }
});
await check('updateParticipant through the gate returns LiveKit\'s ParticipantInfo', async () => {
  const info = await viaGate.updateParticipant(ROOM, 'bob', { metadata: 'on stage' });
  expect(info.identity === 'bob' && info.sid, `info ${JSON.stringify(info)}`);
  expect(info.metadata === 'on stage', `metadata ${JSON.stringify(info.metadata)}`);
  return `sid=${info.sid}`;
});
await check('the gate hands the upstream the updated claims', async () => {
  const r = await gateCheck(gateUrl, 'nginx', '/rtc/validate', bob);
  expect(r.status === 200, `${r.status} ${r.body}`);
  const claims = JSON.parse(Buffer.from(r.headers.get('x-livekit-claims'), 'base64url').toString('utf8'));
  expect(claims.metadata === 'on stage', `claims ${JSON.stringify(claims)}`);
});
await check('removeParticipant through the gate succeeds', async () => {
  await viaGate.removeParticipant(ROOM, 'bob');
});
await check('bob is gone from LiveKit', async () => {
  const identities = (await livekit.listParticipants(ROOM)).map((p) => p.identity);
  expect(!identities.includes('bob') && identities.includes('carol'), `participants ${JSON.stringify(identities)}`);
});
await check('the gate refuses bob\'s token, in the header and in the query', async () => {
  for (const style of ['nginx', 'caddy']) {
    for (const [uri, token] of [['/rtc/validate', bob], [`/rtc?access_token=${bob}`, null]]) {
      const r = await gateCheck(gateUrl, style, uri, token);
      expect(r.status === 401, `${style} ${token ? 'header' : 'query'}: ${r.status} ${r.body}`);
      const challenge = r.headers.get('www-authenticate') ?? '';
      expect(challenge.includes('invalid_token'), `challenge ${challenge}`);
    }
  }
});
await check('LiveKit\'s stand-in refuses bob\'s token too', async () => {
  const r = await get(livekitUrl, '/rtc/validate', bob);
  expect(r.status === 401, `${r.status} ${r.body}`);
});
await check('carol still passes the gate', async () => {
  const r = await gateCheck(gateUrl, 'nginx', '/rtc/validate', carol);
  expect(r.status === 200, `${r.status} ${r.body}`);
});
await check('removing bob again: LiveKit\'s not_found comes back through the gate', () =>
  expectServerError(() => viaGate.removeParticipant(ROOM, 'bob'), 404, 'not_found'));
await check('a call the gate does not serve is a bad_route', () =>
  expectServerError(() => viaGate.listRooms(), 404, 'bad_route'));
await check('LiveKit unreachable: unavailable, recorded, safe to retry', async () => {
  let err;
  try {
    await orphan.removeParticipant(ROOM, 'carol');
  } catch (e) {
    err = e;
  }
  expect(err, 'the call succeeded');
  expect(err.status === 503 && err.code === 'unavailable', `status=${err.status} code=${err.code}`);
  expect(err.message.includes('recorded the removal of `carol`') && err.message.includes('Retrying the call is safe'),
    `message ${err.message}`);
  return `status=${err.status} code=${err.code}`;
});
await check('that gate refuses carol\'s token anyway', async () => {
  const r = await gateCheck(orphanUrl, 'nginx', '/rtc/validate', carol);
  expect(r.status === 401, `${r.status} ${r.body}`);
});

finish();
