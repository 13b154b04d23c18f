// The Node side of room_service.py's "both SDKs, one state" checks: one action per run, with the
// official Node SDK (livekit-server-sdk), its answer as one JSON line on stdout.
//
// Usage (LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET set, after `npm ci` in interop/):
//   node room_service_peer.mjs join ROOM IDENTITY      -> {"status":200,"token":"..."}
//       (a join token minted by AccessToken with canPublish:false, presented to GET /rtc/validate)
//   node room_service_peer.mjs update ROOM IDENTITY OPTIONS_JSON -> ParticipantInfo as JSON
//       (RoomServiceClient.updateParticipant; permission.canPublishSources as TrackSource names)
//   node room_service_peer.mjs get ROOM IDENTITY       -> ParticipantInfo as JSON
//   node room_service_peer.mjs probe ROOM TOKEN SOURCE -> {"validate":..,"whoami":..,"publish":..}
// A twirp error is answered as {"error":{"status":404,"code":"not_found"}}; anything else exits 1.

import { AccessToken, RoomServiceClient, TrackSource } from 'livekit-server-sdk';
import { demoRoutes } from './demo_routes.mjs';

const url = process.env.LIVEKIT_URL;
const apiKey = process.env.LIVEKIT_API_KEY;
const apiSecret = process.env.LIVEKIT_API_SECRET;
if (!url || !apiKey || !apiSecret) {
  console.error('set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET');
  process.exit(2);
}
const svc = new RoomServiceClient(url, apiKey, apiSecret, { requestTimeout: 10, failover: false });
const demo = demoRoutes(url);
const [action, room, ...rest] = process.argv.slice(2);

/** `options` of updateParticipant with the sources named as in the enum (e.g. "CAMERA"). */
function updateOptions(json) {
  const options = JSON.parse(json);
  const sources = options.permission?.canPublishSources;
  if (sources) {
    options.permission.canPublishSources = sources.map((name) => {
      const source = TrackSource[name];
      if (typeof source !== 'number') throw new Error(`no TrackSource ${name}`);
      return source;
    });
  }
  return options;
}

async function run() {
  switch (action) {
    case 'join': {
      const [identity] = rest;
      const at = new AccessToken(apiKey, apiSecret, {
        identity, name: 'From Node', metadata: 'joined from node', ttl: '1h',
      });
      at.addGrant({ roomJoin: true, room, canPublish: false });
      const token = await at.toJwt();
      return { status: (await demo.validate(token)).status, token };
    }
    case 'update': {
      const [identity, options] = rest;
      return (await svc.updateParticipant(room, identity, updateOptions(options))).toJson();
    }
    case 'get':
      return (await svc.getParticipant(room, rest[0])).toJson();
    case 'probe': {
      const [token, source] = rest;
      return {
        validate: (await demo.validate(token)).status,
        whoami: (await demo.whoami(token)).status,
        publish: (await demo.publish(room, token, source)).status,
      };
    }
    default:
      throw new Error(`unknown action ${JSON.stringify(action)}: join, update, get or probe`);
  }
}

try {
  console.log(JSON.stringify(await run()));
} catch (e) {
  if (typeof e?.status === 'number' && e?.code) {
    console.log(JSON.stringify({ error: { status: e.status, code: e.code } }));
  } else {
    console.error(e?.stack ?? e);
    process.exit(1);
  }
}
