// Interop check: drives a LiveKit-compatible twirp RoomService with the official Node SDK client.
//
// Usage (after `npm ci` in interop/):
//   LIVEKIT_URL=http://127.0.0.1:7880 LIVEKIT_API_KEY=... LIVEKIT_API_SECRET=... \
//     node interop/room_service.mjs
//
// Wire format it expects (LiveKit's): POST /twirp/livekit.RoomService/<Method>, protobuf-JSON
// bodies, `Authorization: Bearer <token>`; errors as JSON {"code":"...","msg":"..."} with
// Content-Type exactly application/json (401 unauthenticated, 403 permission_denied).
// Prints one line per check, then "N passed, M failed"; exits 1 on any failure.

import { AccessToken, RoomServiceClient } from 'livekit-server-sdk';

const url = process.env.LIVEKIT_URL;
const apiKey = process.env.LIVEKIT_API_KEY;
const apiSecret = process.env.LIVEKIT_API_SECRET;
if (!url || !apiKey || !apiSecret) {
  console.error('set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET');
  process.exit(2);
}
const ROOM = 'interop-room';
const opts = { requestTimeout: 10, failover: false };

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    const detail = await fn();
    passed += 1;
    console.log(`ok   ${name}${detail ? ` (${detail})` : ''}`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}: ${e?.message ?? e}`);
  }
}
function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}
/** Runs fn, which must throw a ServerError with this HTTP status and twirp code. */
async function expectServerError(fn, status, code) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected an error ${status} ${code}, the call succeeded`);
  expect(err.status === status && err.code === code,
    `expected ${status} ${code}, got status=${err.status} code=${err.code} message=${err.message}`);
  return `status=${err.status} code=${err.code}`;
}
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

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
