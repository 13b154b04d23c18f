// Mints access-token and webhook fixtures with the official Node SDK (livekit-server-sdk).
//
// Run through the wrapper:  bash interop/gen_fixtures.sh
// or by hand (after `npm ci` in interop/):
//   node interop/gen_fixtures.mjs <node-cases-out.json> <webhooks-out.json>
//
// The first file holds the "node" token cases; gen_fixtures.py merges it into
// tests/fixtures/tokens.json. The second is tests/fixtures/webhooks.json.
//
// The SDK stamps the wall clock into every token, so each case records the time `now` at which
// the Rust tests must verify it (read back from the token's own `nbf`/`exp`). Expected claims are
// written out by hand for each case from LiveKit's rules (spec §3): they are literals, not computed.

import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import {
  AccessToken,
  Room,
  RoomAgentDispatch,
  RoomConfiguration,
  TrackSource,
  WebhookEvent,
  WebhookReceiver,
  ParticipantInfo,
  ParticipantInfo_State,
} from 'livekit-server-sdk';

// Keep in sync with gen_fixtures.py.
const K1 = 'APIfixture0001';
const S1 = 'fixtureSecret0123456789abcdefghijklmnopqrst';
const K2 = 'APIfixture0002';
const S2 = 'fixtureSecretTwo0123456789ABCDEFGHIJKLMNOPQ';
const WRONG_SECRET = 'wrongSecret0123456789abcdefghijklmnopqrstuv'; // in no keyring
const UNKNOWN_KEY = 'APIunknown0000'; // in no keyring
const KEYS = { [K1]: S1, [K2]: S2 };

const sdkVersion = JSON.parse(
  readFileSync(new URL('./node_modules/livekit-server-sdk/package.json', import.meta.url)),
).version;

// ---- helpers for literal expectations --------------------------------------------------------

const PERM_FLAGS = [
  'roomJoin', 'roomAdmin', 'roomCreate', 'roomList', 'roomRecord', 'ingressAdmin', 'hidden',
  'recorder', 'agent', 'canPublish', 'canSubscribe', 'canPublishData', 'canUpdateOwnMetadata',
  'canSubscribeMetrics',
];
const SOURCES = ['camera', 'microphone', 'screen_share', 'screen_share_audio', 'unknown'];

/** Expected permissions: name the flags that are TRUE (space separated); all others are false. */
function perms(trueFlags, trueSources = '') {
  const t = new Set(trueFlags.split(/\s+/).filter(Boolean));
  const s = new Set(trueSources.split(/\s+/).filter(Boolean));
  for (const f of t) if (!PERM_FLAGS.includes(f)) throw new Error(`unknown flag ${f}`);
  for (const f of s) if (!SOURCES.includes(f)) throw new Error(`unknown source ${f}`);
  const p = Object.fromEntries(PERM_FLAGS.map((f) => [f, t.has(f)]));
  p.sources = Object.fromEntries(SOURCES.map((f) => [f, s.has(f)]));
  return p;
}
const ALL_SOURCES = 'camera microphone screen_share screen_share_audio unknown';

function payloadOf(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}
function headerOf(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString('utf8'));
}
function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

/**
 * Mints with the SDK and checks the SDK's time stamping: nbf = mint second, no iat,
 * exp = nbf + ttl. Returns { token, nbf, exp }.
 */
async function mint(at, ttlSeconds = 6 * 3600) {
  const before = Math.floor(Date.now() / 1000);
  const token = await at.toJwt();
  const after = Math.floor(Date.now() / 1000);
  const p = payloadOf(token);
  assert(JSON.stringify(headerOf(token)) === '{"alg":"HS256"}', 'node header is {"alg":"HS256"}');
  assert(p.nbf >= before && p.nbf <= after, 'node sets nbf to the mint time');
  assert(p.iat === undefined, 'node sets no iat');
  assert(p.exp - p.nbf === ttlSeconds, `exp - nbf == ttl (${p.exp - p.nbf} vs ${ttlSeconds})`);
  return { token, nbf: p.nbf, exp: p.exp };
}

const cases = [];
function add(c) {
  assert(/^[a-z0-9_]+$/.test(c.name), `snake_case name ${c.name}`);
  if (c.claims) {
    // `roomJoin` is the grant as written; joining also takes a room and an identity (spec §3).
    const p = c.claims.permissions;
    p.canJoin = p.roomJoin && c.claims.room !== '' && c.claims.identity !== '';
  }
  assert(!cases.some((o) => o.name === c.name), `unique name ${c.name}`);
  cases.push({ origin: 'node', error: null, claims: null, ...c });
}
const NOW_AFTER_MINT = 5; // seconds after nbf at which accepted cases are verified

// ---- token cases ------------------------------------------------------------------------------

{
  // Every video grant field, non-ASCII name, JSON text in metadata and in an attribute.
  const at = new AccessToken(K1, S1, {
    identity: 'alice',
    name: 'Alice Ångström',
    metadata: '{"role":"host","tags":["a","b"],"n":1}',
    attributes: { team: 'blue', json: '{"nested":{"k":[1,2]}}', empty: '' },
  });
  at.addGrant({
    roomJoin: true, room: 'myroom', roomCreate: true, roomList: true, roomRecord: true,
    roomAdmin: true, ingressAdmin: true, canPublish: true,
    canPublishSources: [TrackSource.CAMERA, TrackSource.MICROPHONE, TrackSource.SCREEN_SHARE],
    canSubscribe: true, canPublishData: true, canUpdateOwnMetadata: true, hidden: true,
    recorder: true, agent: true, canSubscribeMetrics: true, canManageAgentSession: true,
    destinationRoom: 'otherroom',
  });
  const m = await mint(at);
  add({
    name: 'node_join_every_grant',
    description: 'Node AccessToken with every video grant field set, JSON metadata/attributes, non-ASCII name',
    token: m.token, now: m.nbf + NOW_AFTER_MINT, expect: 'accept',
    claims: {
      identity: 'alice', name: 'Alice Ångström', kind: 'standard',
      metadata: '{"role":"host","tags":["a","b"],"n":1}',
      attributes: { team: 'blue', json: '{"nested":{"k":[1,2]}}', empty: '' },
      apiKey: K1, expiresAt: m.exp, room: 'myroom',
      permissions: perms(
        'roomJoin roomAdmin roomCreate roomList roomRecord ingressAdmin hidden recorder agent ' +
          'canPublish canSubscribe canPublishData canUpdateOwnMetadata canSubscribeMetrics',
        'camera microphone screen_share',
      ),
      sip: { admin: false, call: false },
      roomConfigAgents: [],
    },
  });
}

{
  // roomConfig with agent dispatches: Node serializes the protobuf message with every default.
  const at = new AccessToken(K1, S1, { identity: 'bob' });
  at.addGrant({ roomJoin: true, room: 'agentroom' });
  at.roomPreset = 'preset-a';
  at.roomConfig = new RoomConfiguration({
    name: 'agentroom',
    emptyTimeout: 120,
    maxParticipants: 10,
    agents: [
      new RoomAgentDispatch({ agentName: 'support-agent', metadata: '{"lang":"en"}' }),
      new RoomAgentDispatch({ agentName: 'transcriber' }),
    ],
  });
  const m = await mint(at);
  const rc = payloadOf(m.token).roomConfig;
  assert(rc.agents[0].restartPolicy === 'JRP_ON_FAILURE' && rc.departureTimeout === 0,
    'node writes roomConfig with all default values');
  add({
    name: 'node_room_config_agents',
    description: 'Node roomConfig (RoomConfiguration + 2 RoomAgentDispatch, all defaults serialized) and roomPreset',
    token: m.token, now: m.nbf + NOW_AFTER_MINT, expect: 'accept',
    claims: {
      identity: 'bob', name: '', kind: 'standard', metadata: '', attributes: {},
      apiKey: K1, expiresAt: m.exp, room: 'agentroom',
      permissions: perms('roomJoin canPublish canSubscribe canPublishData', ALL_SOURCES),
      sip: { admin: false, call: false },
      roomConfigAgents: ['support-agent', 'transcriber'],
    },
  });
}

{
  // Only an identity: no video grant at all, so no room permission of any kind.
  const at = new AccessToken(K1, S1, { identity: 'carol' });
  const m = await mint(at);
  assert(payloadOf(m.token).video === undefined, 'bare node token has no video claim');
  add({
    name: 'node_bare_identity_only',
    description: 'Node token with only an identity and no grants: no video claim, so every permission is false',
    token: m.token, now: m.nbf + NOW_AFTER_MINT, expect: 'accept',
    claims: {
      identity: 'carol', name: '', kind: 'standard', metadata: '', attributes: {},
      apiKey: K1, expiresAt: m.exp, room: '', permissions: perms(''),
      sip: { admin: false, call: false }, roomConfigAgents: [],
    },
  });
}

{
  const at = new AccessToken(K2, S2, { identity: 'sip-admin' });
  at.kind = 'sip';
  at.addSIPGrant({ admin: true, call: true });
  const m = await mint(at);
  add({
    name: 'node_sip_admin_and_call',
    description: 'Node SIP grant admin+call, kind sip, second API key',
    token: m.token, now: m.nbf + NOW_AFTER_MINT, expect: 'accept',
    claims: {
      identity: 'sip-admin', name: '', kind: 'sip', metadata: '', attributes: {},
      apiKey: K2, expiresAt: m.exp, room: '', permissions: perms(''),
      sip: { admin: true, call: true }, roomConfigAgents: [],
    },
  });
}

{
  const at = new AccessToken(K1, S1, { identity: 'sip-caller' });
  at.addSIPGrant({ call: true });
  const m = await mint(at);
  assert(JSON.stringify(payloadOf(m.token).sip) === '{"call":true}', 'node writes partial sip');
  add({
    name: 'node_sip_call_partial',
    description: 'Node writes a partial SIP grant {"call":true}; admin defaults to false',
    token: m.token, now: m.nbf + NOW_AFTER_MINT, expect: 'accept',
    claims: {
      identity: 'sip-caller', name: '', kind: 'standard', metadata: '', attributes: {},
      apiKey: K1, expiresAt: m.exp, room: '', permissions: perms(''),
      sip: { admin: false, call: true }, roomConfigAgents: [],
    },
  });
}

{
  // livekit-server-sdk 2.19.2 has no top-level `agent` grant; it has inference and observability.
  const at = new AccessToken(K1, S1, { identity: 'obs-bot' });
  at.addInferenceGrant({ perform: true });
  at.addObservabilityGrant({ write: true });
  at.addGrant({ roomJoin: true, room: 'r1', canSubscribe: true });
  const m = await mint(at);
  add({
    name: 'node_inference_observability',
    description: 'Node inference {perform} and observability {write} grants next to a join grant',
    token: m.token, now: m.nbf + NOW_AFTER_MINT, expect: 'accept',
    claims: {
      identity: 'obs-bot', name: '', kind: 'standard', metadata: '', attributes: {},
      apiKey: K1, expiresAt: m.exp, room: 'r1',
      permissions: perms('roomJoin canPublish canSubscribe canPublishData', ALL_SOURCES),
      sip: { admin: false, call: false }, roomConfigAgents: [],
    },
  });
}

{
  const at = new AccessToken(K1, S1, { identity: 'viewer' });
  at.addGrant({ roomJoin: true, room: 'stage', canPublish: false, canPublishData: true });
  const m = await mint(at);
  add({
    name: 'node_publish_false_data_true',
    description: 'canPublish:false + canPublishData:true: no source may be published, data may',
    token: m.token, now: m.nbf + NOW_AFTER_MINT, expect: 'accept',
    claims: {
      identity: 'viewer', name: '', kind: 'standard', metadata: '', attributes: {},
      apiKey: K1, expiresAt: m.exp, room: 'stage',
      permissions: perms('roomJoin canSubscribe canPublishData', ''),
      sip: { admin: false, call: false }, roomConfigAgents: [],
    },
  });
}

{
  const at = new AccessToken(K1, S1, { identity: 'cam-only' });
  at.addGrant({ roomJoin: true, room: 'stage', canPublishSources: [TrackSource.CAMERA] });
  const m = await mint(at);
  add({
    name: 'node_publish_sources_camera',
    description: "canPublishSources ['camera'] only: camera allowed, every other source denied",
    token: m.token, now: m.nbf + NOW_AFTER_MINT, expect: 'accept',
    claims: {
      identity: 'cam-only', name: '', kind: 'standard', metadata: '', attributes: {},
      apiKey: K1, expiresAt: m.exp, room: 'stage',
      permissions: perms('roomJoin canPublish canSubscribe canPublishData', 'camera'),
      sip: { admin: false, call: false }, roomConfigAgents: [],
    },
  });
}

{
  const at = new AccessToken(K1, S1, { identity: 'agent-1', name: 'Agent One' });
  at.kind = 'agent';
  at.addGrant({ roomJoin: true, room: 'r', hidden: true });
  const m = await mint(at);
  add({
    name: 'node_kind_agent',
    description: 'Node kind "agent" without video.agent: agent is true through the kind',
    token: m.token, now: m.nbf + NOW_AFTER_MINT, expect: 'accept',
    claims: {
      identity: 'agent-1', name: 'Agent One', kind: 'agent', metadata: '', attributes: {},
      apiKey: K1, expiresAt: m.exp, room: 'r',
      permissions: perms('roomJoin hidden agent canPublish canSubscribe canPublishData', ALL_SOURCES),
      sip: { admin: false, call: false }, roomConfigAgents: [],
    },
  });
}

{
  const at = new AccessToken(K1, S1, { identity: 'EG_recorder' });
  at.kind = 'egress';
  at.addGrant({ roomJoin: true, room: 'r', canPublish: false });
  const m = await mint(at);
  add({
    name: 'node_kind_egress',
    description: 'Node kind "egress" => recorder; canPublish:false with canPublishData unset => no data either',
    token: m.token, now: m.nbf + NOW_AFTER_MINT, expect: 'accept',
    claims: {
      identity: 'EG_recorder', name: '', kind: 'egress', metadata: '', attributes: {},
      apiKey: K1, expiresAt: m.exp, room: 'r',
      permissions: perms('roomJoin recorder canSubscribe', ''),
      sip: { admin: false, call: false }, roomConfigAgents: [],
    },
  });
}

{
  // Short TTL: the same token, checked on both sides of the expiry leeway (60 s).
  const at = new AccessToken(K1, S1, { identity: 'short-lived', ttl: 10 });
  at.addGrant({ roomJoin: true, room: 'r' });
  const m = await mint(at, 10);
  const claims = {
    identity: 'short-lived', name: '', kind: 'standard', metadata: '', attributes: {},
    apiKey: K1, expiresAt: m.exp, room: 'r',
    permissions: perms('roomJoin canPublish canSubscribe canPublishData', ALL_SOURCES),
    sip: { admin: false, call: false }, roomConfigAgents: [],
  };
  add({
    name: 'node_ttl_within_expiry_leeway',
    description: 'Node ttl 10 s verified at exp+59: still inside the 60 s leeway',
    token: m.token, now: m.exp + 59, expect: 'accept', claims,
  });
  add({
    name: 'node_ttl_expired',
    description: 'Node ttl 10 s verified at exp+60: expired',
    token: m.token, now: m.exp + 60, expect: 'reject', error: 'expired',
  });
  // Node sets nbf = mint time, so a verifier clock far behind the minter refuses it.
  add({
    name: 'node_nbf_within_leeway',
    description: 'Node token (nbf = mint time) verified at nbf-60: inside the leeway',
    token: m.token, now: m.nbf - 60, expect: 'accept', claims,
  });
  add({
    name: 'node_not_yet_valid',
    description: 'Node token (nbf = mint time) verified at nbf-61: not yet valid',
    token: m.token, now: m.nbf - 61, expect: 'reject', error: 'not_yet_valid',
  });
}

{
  const at = new AccessToken(K1, WRONG_SECRET, { identity: 'mallory' });
  at.addGrant({ roomJoin: true, room: 'r', roomAdmin: true });
  const m = await mint(at);
  add({
    name: 'node_wrong_secret',
    description: 'iss is a known key but the token was signed with another secret',
    token: m.token, now: m.nbf + NOW_AFTER_MINT, expect: 'reject', error: 'invalid_signature',
  });
}

{
  const at = new AccessToken(UNKNOWN_KEY, S1, { identity: 'mallory' });
  at.addGrant({ roomJoin: true, room: 'r' });
  const m = await mint(at);
  add({
    name: 'node_unknown_key',
    description: 'iss is not in the keyring (signed with a known secret, which must not matter)',
    token: m.token, now: m.nbf + NOW_AFTER_MINT, expect: 'reject', error: 'unknown_key',
  });
}

// ---- webhook cases ----------------------------------------------------------------------------

function bodyHash(body) {
  return createHash('sha256').update(body, 'utf8').digest('base64');
}
assert(bodyHash('{"event":"room_started"}') === 'w9NV0uLHjSON8P7eonnkKXDHY4ICORefbHDCviKIgX8=',
  'spec §8 example hash');

/** Signs a webhook body the way the LiveKit server does: a 5-minute token with only sha256. */
async function signWebhook(key, secret, body) {
  const at = new AccessToken(key, secret, { ttl: '5m' });
  at.sha256 = bodyHash(body);
  return mint(at, 300);
}

const t = Math.floor(Date.now() / 1000);
const roomStarted = new WebhookEvent({
  id: 'EV_3Ksq8mYxXv2z',
  createdAt: BigInt(t),
  room: new Room({
    sid: 'RM_hycBMAjmt6Ub',
    name: 'Demo Room',
    emptyTimeout: 300,
    departureTimeout: 20,
    maxParticipants: 50,
    creationTime: BigInt(t),
    creationTimeMs: BigInt(t) * 1000n,
    turnPassword: 'ICkSr2rEeslkN6e9bXL4Ji5zzMD5Z7zzr6ulOaxMj6N',
    metadata: '{"topic":"webhooks"}',
  }),
});
roomStarted.event = 'room_started'; // the SDK subclass resets `event` after construction
const participantJoined = new WebhookEvent({
  id: 'EV_eK8t2pQLbZpA',
  createdAt: BigInt(t),
  room: new Room({ sid: 'RM_hycBMAjmt6Ub', name: 'Demo Room', numParticipants: 1 }),
  participant: new ParticipantInfo({
    sid: 'PA_39Ftzb7QZ9tN',
    identity: 'alice',
    name: 'Alice Ångström',
    state: ParticipantInfo_State.ACTIVE,
    joinedAt: BigInt(t),
    joinedAtMs: BigInt(t) * 1000n,
    metadata: '{"role":"host"}',
    attributes: { team: 'blue' },
    version: 3,
  }),
});
participantJoined.event = 'participant_joined';

const roomStartedBody = roomStarted.toJsonString();
const participantJoinedBody = participantJoined.toJsonString();
assert(roomStartedBody.startsWith('{"event":"room_started"'), 'event first in body');

const webhooks = [];
async function addWebhook(c, checkWithSdk) {
  assert(!webhooks.some((o) => o.name === c.name), `unique webhook name ${c.name}`);
  // The SDK's receiver cannot take a clock, so it checks right now, just after minting.
  if (checkWithSdk) {
    const receiver = new WebhookReceiver(checkWithSdk.key, KEYS[checkWithSdk.key]);
    let ok = true;
    try {
      const ev = await receiver.receive(c.body, c.authorization);
      assert(ev.event === JSON.parse(c.body).event, 'receiver parsed the event');
    } catch (e) {
      ok = false;
      if (c.expect === 'accept') throw new Error(`WebhookReceiver refused ${c.name}: ${e.message}`);
    }
    if (c.expect === 'reject') assert(!ok, `WebhookReceiver must refuse ${c.name}`);
  }
  const { name, body, authorization, now, expect, error = null } = c;
  webhooks.push({ name, body, authorization, now, expect, error });
}

{
  const m = await signWebhook(K1, S1, roomStartedBody);
  await addWebhook({
    name: 'room_started', body: roomStartedBody, authorization: m.token,
    now: m.nbf + NOW_AFTER_MINT, expect: 'accept',
  }, { key: K1 });
  await addWebhook({
    name: 'room_started_within_leeway', body: roomStartedBody, authorization: m.token,
    now: m.exp + 59, expect: 'accept',
  });
  await addWebhook({
    name: 'expired', body: roomStartedBody, authorization: m.token,
    now: m.exp + 60, expect: 'reject', error: 'expired',
  });
  // One byte of the body changed (room name 'Demo Room' -> 'Demo Roon').
  const tampered = roomStartedBody.replace('"Demo Room"', '"Demo Roon"');
  assert(tampered.length === roomStartedBody.length && tampered !== roomStartedBody, 'one byte');
  await addWebhook({
    name: 'body_changed_one_byte', body: tampered, authorization: m.token,
    now: m.nbf + NOW_AFTER_MINT, expect: 'reject', error: 'body_hash_mismatch',
  }, { key: K1 });
  await addWebhook({
    name: 'missing_authorization', body: roomStartedBody, authorization: '',
    now: m.nbf + NOW_AFTER_MINT, expect: 'reject', error: 'missing_token',
  }, { key: K1 });
}
{
  const m = await signWebhook(K2, S2, participantJoinedBody);
  await addWebhook({
    name: 'participant_joined', body: participantJoinedBody, authorization: m.token,
    now: m.nbf + NOW_AFTER_MINT, expect: 'accept',
  }, { key: K2 });
}
{
  const m = await signWebhook(K1, WRONG_SECRET, roomStartedBody);
  await addWebhook({
    name: 'wrong_secret', body: roomStartedBody, authorization: m.token,
    now: m.nbf + NOW_AFTER_MINT, expect: 'reject', error: 'invalid_signature',
  }, { key: K1 });
}
{
  const m = await signWebhook(UNKNOWN_KEY, S1, roomStartedBody);
  await addWebhook({
    name: 'unknown_key', body: roomStartedBody, authorization: m.token,
    now: m.nbf + NOW_AFTER_MINT, expect: 'reject', error: 'unknown_key',
  }, { key: K1 });
}

// ---- output -----------------------------------------------------------------------------------

const [casesOut, webhooksOut] = process.argv.slice(2);
if (!casesOut || !webhooksOut) {
  console.error('usage: node gen_fixtures.mjs <node-cases-out.json> <webhooks-out.json>');
  process.exit(2);
}
writeFileSync(casesOut, JSON.stringify({
  sdk_version: `livekit-server-sdk ${sdkVersion}`, keys: KEYS, cases,
}, null, 2) + '\n');
writeFileSync(webhooksOut, JSON.stringify({ keys: KEYS, cases: webhooks }, null, 2) + '\n');
console.log(`node: ${cases.length} token cases, ${webhooks.length} webhook cases`);
