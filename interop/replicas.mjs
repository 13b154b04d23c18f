// Interop check: three replicas of the demo server sharing one redis-server (issue 12), driven
// by the official Node SDK (livekit-server-sdk's RoomServiceClient and AccessToken). A
// participant joins on replica A, is updated through replica B, and its ORIGINAL token shows
// the new grants on replica C; removed through C, the token is refused on A and B.
//
// Usage (after `npm ci` in interop/; interop/live_replicas.sh starts everything):
//   REPLICA_A=http://127.0.0.1:... REPLICA_B=... REPLICA_C=... \
//     LIVEKIT_API_KEY=... LIVEKIT_API_SECRET=... node interop/replicas.mjs
//
// Where a change must travel from one replica to another (through Redis), the check polls
// for it every 10 ms with a 10 s deadline and reports how long it took; it never sleeps a
// fixed time. Prints one line per check, then "N passed, M failed"; exits 1 on any failure.

import { AccessToken, RoomServiceClient, TrackSource } from 'livekit-server-sdk';
import { demoRoutes } from './demo_routes.mjs';
import { check, expect, expectServerError, expectStatus, finish } from './checks.mjs';

const urls = { A: process.env.REPLICA_A, B: process.env.REPLICA_B, C: process.env.REPLICA_C };
const apiKey = process.env.LIVEKIT_API_KEY;
const apiSecret = process.env.LIVEKIT_API_SECRET;
if (!urls.A || !urls.B || !urls.C || !apiKey || !apiSecret) {
  console.error('set REPLICA_A, REPLICA_B, REPLICA_C, LIVEKIT_API_KEY and LIVEKIT_API_SECRET');
  process.exit(2);
}
const ROOM = 'replicas-room';
const WHO = 'node-rey';
const BYSTANDER = 'node-bea';
const DEADLINE_MS = 10_000;
const opts = { requestTimeout: 10, failover: false };

const show = (v) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x));
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** Calls `probe` (an answer {status, body}) every 10 ms until it has `status`, up to 10 s. */
async function becomes(status, probe) {
  const started = performance.now();
  let last;
  for (;;) {
    last = await probe();
    if (last.status === status) return `${Math.round(performance.now() - started)} ms`;
    if (performance.now() - started > DEADLINE_MS) {
      throw new Error(`still ${last.status} ${last.body} after ${DEADLINE_MS} ms; expected ${status}`);
    }
    await new Promise((resolve) => { setTimeout(resolve, 10); });
  }
}

const demo = { A: demoRoutes(urls.A), B: demoRoutes(urls.B), C: demoRoutes(urls.C) };
const svc = {
  A: new RoomServiceClient(urls.A, apiKey, apiSecret, opts),
  B: new RoomServiceClient(urls.B, apiKey, apiSecret, opts),
  C: new RoomServiceClient(urls.C, apiKey, apiSecret, opts),
};
async function joinToken(identity) {
  const at = new AccessToken(apiKey, apiSecret, { identity, name: identity, ttl: '1h' });
  at.addGrant({ roomJoin: true, room: ROOM, canPublish: false });
  return at.toJwt();
}
// The ORIGINAL tokens: minted once, presented unchanged by every check below.
const original = await joinToken(WHO);
const bystander = await joinToken(BYSTANDER);

await check('the participant joins on replica A (GET /rtc/validate with its token: 200)',
  async () => { await expectStatus(demo.A.validate(original), 200); });
await check('a bystander joins on replica B (200)',
  async () => { await expectStatus(demo.B.validate(bystander), 200); });
await check('before any update, its token may not publish the camera on replica C (403)',
  async () => { await expectStatus(demo.C.publish(ROOM, original, 'camera'), 403); });
await check('listParticipants through replica C lists both: the rooms are shared too', async () => {
  const ps = await svc.C.listParticipants(ROOM);
  expect(same(ps.map((p) => p.identity).sort(), [BYSTANDER, WHO].sort()), `participants: ${show(ps)}`);
});

await check('updateParticipant through replica B (canPublish, canPublishSources [CAMERA], metadata) returns the new ParticipantInfo', async () => {
  const info = await svc.B.updateParticipant(ROOM, WHO, {
    metadata: 'promoted on B',
    permission: { canSubscribe: true, canPublish: true, canPublishSources: [TrackSource.CAMERA] },
  });
  expect(info.identity === WHO && info.metadata === 'promoted on B', show(info));
  expect(info.permission?.canPublish === true
    && same(info.permission.canPublishSources, [TrackSource.CAMERA]), show(info.permission));
});
await check('on replica C, the ORIGINAL token publishes the camera (204)',
  () => becomes(204, () => demo.C.publish(ROOM, original, 'camera')));
await check('... and still may not publish the microphone on replica C (403)',
  async () => { await expectStatus(demo.C.publish(ROOM, original, 'microphone'), 403); });
await check('GET /whoami on replica C with the original token shows the metadata and camera-only sources', async () => {
  const me = JSON.parse((await expectStatus(demo.C.whoami(original), 200)).body);
  expect(me.identity === WHO && me.metadata === 'promoted on B', show(me));
  const sources = me.permissions?.sources ?? {};
  expect(sources.camera === true && sources.microphone === false, `sources ${show(sources)}`);
});
await check('on replica A, where it joined, the original token publishes the camera too (204)',
  () => becomes(204, () => demo.A.publish(ROOM, original, 'camera')));
await check('getParticipant through replica A returns the updated state', async () => {
  const info = await svc.A.getParticipant(ROOM, WHO);
  expect(info.metadata === 'promoted on B'
    && same(info.permission?.canPublishSources, [TrackSource.CAMERA]), show(info));
});

await check('removeParticipant through replica C succeeds', async () => {
  await svc.C.removeParticipant(ROOM, WHO);
});
await check('replica C refuses the original token at once (401)',
  async () => { await expectStatus(demo.C.whoami(original), 401); });
for (const replica of ['A', 'B']) {
  await check(`replica ${replica} refuses the original token (GET /rtc/validate: 401)`,
    () => becomes(401, () => demo[replica].validate(original)));
  await check(`... and on every participant route of replica ${replica} (/whoami, publish: 401)`, async () => {
    await expectStatus(demo[replica].whoami(original), 401);
    await expectStatus(demo[replica].publish(ROOM, original, 'camera'), 401);
  });
}
await check('getParticipant through replica B: not_found (404), it left the room', () => expectServerError(
  () => svc.B.getParticipant(ROOM, WHO), 404, 'not_found'));
await check('the bystander is still accepted on A, B and C (200) and still listed', async () => {
  for (const replica of ['A', 'B', 'C']) {
    await expectStatus(demo[replica].whoami(bystander), 200);
  }
  const ps = await svc.A.listParticipants(ROOM);
  expect(same(ps.map((p) => p.identity), [BYSTANDER]), `participants: ${show(ps)}`);
});

finish();
