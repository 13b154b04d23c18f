// Interop check: drives a LiveKit-compatible twirp RoomService with the official Node SDK client,
// then a participant's live state (issue 11): it joins with canPublish:false, is promoted,
// changed and removed through the RoomServiceClient, and its ORIGINAL token answers on the
// demo's participant routes with the state as it is now.
//
// Usage (after `npm ci` in interop/):
//   LIVEKIT_URL=http://127.0.0.1:7880 LIVEKIT_API_KEY=... LIVEKIT_API_SECRET=... \
//     node interop/room_service.mjs
//
// Wire format it expects (LiveKit's): POST /twirp/livekit.RoomService/<Method>, protobuf-JSON
// bodies, `Authorization: Bearer <token>`; errors as JSON {"code":"...","msg":"..."} with
// Content-Type exactly application/json (401 unauthenticated, 403 permission_denied, 404
// not_found). Participant routes of `lkauth serve` (lkauth/src/serve/): GET /rtc/validate
// (joins), GET /whoami, POST /rooms/{room}/publish; a refreshed token in `x-livekit-refresh-token`.
// Prints one line per check, then "N passed, M failed"; exits 1 on any failure.

import {
  AccessToken, ParticipantInfo_State, RoomServiceClient, TokenVerifier, TrackSource,
} from 'livekit-server-sdk';
import { demoRoutes, withNotBefore } from './demo_routes.mjs';
import { check, expect, expectServerError, expectStatus, finish } from './checks.mjs';

const url = process.env.LIVEKIT_URL;
const apiKey = process.env.LIVEKIT_API_KEY;
const apiSecret = process.env.LIVEKIT_API_SECRET;
if (!url || !apiKey || !apiSecret) {
  console.error('set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET');
  process.exit(2);
}
const ROOM = 'interop-room';
const opts = { requestTimeout: 10, failover: false };

const names = (rooms) => rooms.map((r) => r.name);

const svc = new RoomServiceClient(url, apiKey, apiSecret, opts);

await check('createRoom returns the room', async () => {
  const room = await svc.createRoom({ name: ROOM, emptyTimeout: 60, maxParticipants: 5 });
  expect(room.name === ROOM, `room name ${JSON.stringify(room.name)}`);
  return `sid=${room.sid}`;
});
await check('listRooms() includes it', async () => {
  const rooms = await svc.listRooms();
  expect(names(rooms).includes(ROOM), `rooms: ${JSON.stringify(names(rooms))}`);
});
await check('listRooms([name]) filters', async () => {
  const rooms = await svc.listRooms([ROOM]);
  expect(rooms.length === 1 && rooms[0].name === ROOM, `rooms: ${JSON.stringify(names(rooms))}`);
});
await check('updateRoomMetadata returns the metadata', async () => {
  const room = await svc.updateRoomMetadata(ROOM, '{"x":1}');
  expect(room.metadata === '{"x":1}', `metadata ${JSON.stringify(room.metadata)}`);
});
await check('listParticipants is empty', async () => {
  const ps = await svc.listParticipants(ROOM);
  expect(Array.isArray(ps) && ps.length === 0, `participants: ${ps.length}`);
});
await check('deleteRoom succeeds', async () => {
  await svc.deleteRoom(ROOM);
});
await check('listRooms() no longer has it', async () => {
  const rooms = await svc.listRooms();
  expect(!names(rooms).includes(ROOM), `rooms: ${JSON.stringify(names(rooms))}`);
});

await check('a wrong secret is refused as unauthenticated (401)', async () => {
  const bad = new RoomServiceClient(url, apiKey, `${apiSecret}-wrong`, opts);
  return expectServerError(() => bad.listRooms(), 401, 'unauthenticated');
});
await check('a token without roomCreate is refused as permission_denied (403)', async () => {
  // livekit-server-sdk 2.19.2 does not export TwirpRpc; a client built with a pre-signed
  // `token` sends it verbatim as `Authorization: Bearer <token>`.
  const at = new AccessToken(apiKey, apiSecret, { identity: 'interop-joiner', ttl: '10m' });
  at.addGrant({ roomJoin: true, room: ROOM });
  const joinOnly = new RoomServiceClient(url, undefined, undefined, { ...opts, token: await at.toJwt() });
  return expectServerError(() => joinOnly.createRoom({ name: ROOM }), 403, 'permission_denied');
});

// A participant's live state (issue 11). Its token is minted with the SDK's AccessToken and
// kept: every check below presents this ORIGINAL token, and the demo answers with the state
// the RoomServiceClient gave the participant since.
const STAGE = 'interop-stage';
const VIEWER = 'node-viv';
const demo = demoRoutes(url);
const verifier = new TokenVerifier(apiKey, apiSecret);
const nowSeconds = () => Math.floor(Date.now() / 1000);
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const show = (v) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x));
async function viewerToken() {
  const at = new AccessToken(apiKey, apiSecret, {
    identity: VIEWER, name: 'Viv', metadata: 'm0', attributes: { seat: '12' }, ttl: '1h',
  });
  at.addGrant({ roomJoin: true, room: STAGE, canPublish: false });
  return at.toJwt();
}
const original = await viewerToken();
let refreshed;

await check('a participant joins with canPublish:false (GET /rtc/validate with its token: 200)',
  async () => { await expectStatus(demo.validate(original), 200); });
await check('listParticipants lists it, as it joined; the join created the room', async () => {
  const ps = await svc.listParticipants(STAGE);
  expect(ps.length === 1 && ps[0].identity === VIEWER, `participants: ${show(ps)}`);
  expect(ps[0].permission?.canPublish === false && ps[0].name === 'Viv', show(ps[0]));
  const rooms = await svc.listRooms([STAGE]);
  expect(rooms.length === 1 && rooms[0].numParticipants === 1, `rooms: ${show(rooms)}`);
});
await check('its original token may not publish the camera (403)',
  async () => { await expectStatus(demo.publish(STAGE, original, 'camera'), 403); });
await check('updateParticipant(room, identity, {metadata, attributes, permission}) returns the new ParticipantInfo', async () => {
  const info = await svc.updateParticipant(STAGE, VIEWER, {
    metadata: 'on stage',
    attributes: { role: 'speaker', seat: '' },
    permission: {
      canSubscribe: true, canPublish: true, canPublishData: true,
      canPublishSources: [TrackSource.CAMERA],
    },
  });
  expect(info.identity === VIEWER && info.metadata === 'on stage', show(info));
  expect(info.name === 'Viv', `an update without a name keeps it: ${show(info.name)}`);
  expect(same(info.attributes, { role: 'speaker' }), `attributes merge, "" deletes: ${show(info.attributes)}`);
  const p = info.permission;
  expect(p?.canSubscribe && p.canPublish && p.canPublishData, `permission ${show(p)}`);
  expect(same(p.canPublishSources, [TrackSource.CAMERA]), `sources ${show(p.canPublishSources)}`);
  expect(info.state === ParticipantInfo_State.ACTIVE, `state ${info.state}`);
  expect(BigInt(info.joinedAt) > 0n, `joinedAt ${info.joinedAt}`);
  return `sid=${info.sid}`;
});
await check('the same original token now publishes the camera (204) and gets a refreshed token', async () => {
  const r = await expectStatus(demo.publish(STAGE, original, 'camera'), 204);
  expect(r.refresh, 'no x-livekit-refresh-token header after the update');
  refreshed = r.refresh;
});
await check('... and still may not publish the microphone (403)',
  async () => { await expectStatus(demo.publish(STAGE, original, 'microphone'), 403); });
await check('GET /whoami with the original token shows the new metadata and attributes', async () => {
  const me = JSON.parse((await expectStatus(demo.whoami(original), 200)).body);
  expect(me.identity === VIEWER && me.name === 'Viv', show(me));
  expect(me.metadata === 'on stage', `metadata ${show(me.metadata)}`);
  expect(same(me.attributes, { role: 'speaker' }), `attributes ${show(me.attributes)}`);
  const sources = me.permissions?.sources ?? {};
  expect(sources.camera === true && sources.microphone === false, `sources ${show(sources)}`);
});
await check("the refresh header's token, verified by the SDK's TokenVerifier, carries the new grants", async () => {
  expect(refreshed, 'no refreshed token to verify');
  const claims = await verifier.verify(refreshed);
  const v = claims.video ?? {};
  expect(claims.sub === VIEWER && claims.iss === apiKey, `sub ${claims.sub} iss ${claims.iss}`);
  expect(v.roomJoin === true && v.room === STAGE, `video ${show(v)}`);
  expect(v.canPublish === true && v.canPublishData === true, `video ${show(v)}`);
  expect(same(v.canPublishSources, ['camera']), `canPublishSources ${show(v.canPublishSources)}`);
  expect(claims.metadata === 'on stage' && same(claims.attributes, { role: 'speaker' }),
    `metadata ${show(claims.metadata)} attributes ${show(claims.attributes)}`);
  await expectStatus(demo.publish(STAGE, refreshed, 'camera'), 204);
  return `exp in ${claims.exp - nowSeconds()} s`;
});
await check('getParticipant returns the state', async () => {
  const info = await svc.getParticipant(STAGE, VIEWER);
  expect(info.metadata === 'on stage' && same(info.attributes, { role: 'speaker' }), show(info));
  expect(info.permission?.canPublish === true
    && same(info.permission.canPublishSources, [TrackSource.CAMERA]), show(info.permission));
});
await check('updateParticipant(room, identity, metadata) (positional) changes the metadata, keeps the permission', async () => {
  const info = await svc.updateParticipant(STAGE, VIEWER, 'second');
  expect(info.metadata === 'second', `metadata ${show(info.metadata)}`);
  expect(info.permission?.canPublish === true
    && same(info.permission.canPublishSources, [TrackSource.CAMERA]), show(info.permission));
  const me = JSON.parse((await expectStatus(demo.whoami(original), 200)).body);
  expect(me.metadata === 'second', `whoami metadata ${show(me.metadata)}`);
  await expectStatus(demo.publish(STAGE, original, 'camera'), 204);
});
await check('updateParticipant of an identity not in the room is not_found (404)', () =>
  expectServerError(() => svc.updateParticipant(STAGE, 'nobody', { metadata: 'x' }), 404, 'not_found'));
await check('getParticipant with roomAdmin of another room is permission_denied (403)', async () => {
  const at = new AccessToken(apiKey, apiSecret, { identity: 'other-admin', ttl: '10m' });
  at.addGrant({ roomAdmin: true, room: 'elsewhere' });
  const other = new RoomServiceClient(url, undefined, undefined, { ...opts, token: await at.toJwt() });
  return expectServerError(() => other.getParticipant(STAGE, VIEWER), 403, 'permission_denied');
});

// Removal: without revokeTokenTs the cutoff is the server's now + 60 s, so every token the SDK
// can mint now (nbf = now) is refused; one with nbf at the cutoff is accepted.
let removedAt;
await check('removeParticipant(room, identity) succeeds', async () => {
  await svc.removeParticipant(STAGE, VIEWER);
  removedAt = nowSeconds();
});
await check('the original token now answers 401 on /rtc/validate, /whoami and publish', async () => {
  await expectStatus(demo.validate(original), 401);
  await expectStatus(demo.whoami(original), 401);
  await expectStatus(demo.publish(STAGE, original, 'camera'), 401);
});
await check('the refreshed token, issued before the cutoff, is refused too (401)', async () => {
  expect(refreshed, 'no refreshed token to present');
  await expectStatus(demo.whoami(refreshed), 401);
});
await check('getParticipant is not_found (404) and listParticipants no longer lists it', async () => {
  const ps = await svc.listParticipants(STAGE);
  expect(!ps.some((p) => p.identity === VIEWER), `participants: ${show(ps)}`);
  return expectServerError(() => svc.getParticipant(STAGE, VIEWER), 404, 'not_found');
});
await check('a token the SDK mints now is refused (401): the default cutoff is now + 60 s',
  async () => { await expectStatus(demo.validate(await viewerToken()), 401); });
await check('a token minted at the cutoff (nbf = removal + 60 s) joins again, with its own grants', async () => {
  expect(removedAt, 'the removal did not happen');
  const late = withNotBefore(await viewerToken(), removedAt + 60, apiSecret);
  await expectStatus(demo.validate(late), 200);
  const me = JSON.parse((await expectStatus(demo.whoami(late), 200)).body);
  expect(me.metadata === 'm0' && same(me.attributes, { seat: '12' }),
    `the removal cleared the updates: ${show(me)}`);
  await expectStatus(demo.publish(STAGE, late, 'camera'), 403);
  const info = await svc.getParticipant(STAGE, VIEWER);
  expect(info.permission?.canPublish === false, show(info.permission));
});

// removeParticipant with revokeTokenTs (an int64, sent as a JSON string): the cutoff is that
// time, 30 s ahead here, not the default now + 60 s.
await check('removeParticipant(room, identity, {revokeTokenTs: now + 30 s}) refuses the tokens issued before it, accepts one issued at it', async () => {
  const at = new AccessToken(apiKey, apiSecret, { identity: 'node-rex', ttl: '1h' });
  at.addGrant({ roomJoin: true, room: STAGE, canPublish: false });
  const rex = await at.toJwt();
  await expectStatus(demo.validate(rex), 200);
  const cutoff = nowSeconds() + 30;
  await svc.removeParticipant(STAGE, 'node-rex', { revokeTokenTs: BigInt(cutoff) });
  await expectStatus(demo.whoami(rex), 401);
  await expectStatus(demo.validate(withNotBefore(rex, cutoff - 1, apiSecret)), 401);
  await expectStatus(demo.validate(withNotBefore(rex, cutoff, apiSecret)), 200);
});
await check('deleteRoom(stage) succeeds', async () => { await svc.deleteRoom(STAGE); });

finish();
