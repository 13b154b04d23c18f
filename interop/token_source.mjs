// Interop check: the official JS client's TokenSource (livekit-client, pinned in
// package-lock.json) against the demo server's token endpoint (POST /token) and its local
// development token server (POST /api/v2/sandbox/connection-details), in Node 20 with no DOM.
// Then the requests recorded from the Swift, Android, Flutter and Rust clients
// (tests/fixtures/token_requests/) are replayed. Every token is checked twice: with the Node
// SDK's TokenVerifier (livekit-server-sdk) and with the crate's Verifier (the demo's GET /whoami).
//
// Usage (after `npm ci` in interop/; interop/token_source.sh starts the demo and runs this):
//   DEMO_URL=http://127.0.0.1:7880 LIVEKIT_API_KEY=... LIVEKIT_API_SECRET=... \
//     node interop/token_source.mjs
//
// The clients talk to the demo through a counting proxy on 127.0.0.1 started here, so that a
// cached fetch is seen to send nothing and the exact request (body, headers) is checked.
// Prints one line per check, then "N passed, M failed"; exits 1 on any failure.

import { createServer } from 'node:http';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, expect, finish } from './checks.mjs';

// Browser globals: recorded when read, before livekit-client is loaded (hence the dynamic
// import below), to show which it looks for and that it runs without them.
const BROWSER_GLOBALS = ['window', 'document', 'navigator', 'location', 'self', 'localStorage',
  'sessionStorage', 'HTMLElement', 'RTCPeerConnection', 'MediaStream'];
const browserReads = new Set();
const browserValues = new Map();
for (const name of BROWSER_GLOBALS) {
  const own = Object.getOwnPropertyDescriptor(globalThis, name);
  browserValues.set(name, own ? (own.get ? own.get.call(globalThis) : own.value) : undefined);
  Object.defineProperty(globalThis, name, {
    configurable: true,
    get() { browserReads.add(name); return browserValues.get(name); },
    set(v) { browserValues.set(name, v); },
  });
}
const { TokenSource } = await import('livekit-client');
const { TokenVerifier } = await import('livekit-server-sdk');

const demo = process.env.DEMO_URL;
const apiKey = process.env.LIVEKIT_API_KEY;
const apiSecret = process.env.LIVEKIT_API_SECRET;
if (!demo || !apiKey || !apiSecret) {
  console.error('set DEMO_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET');
  process.exit(2);
}
const SANDBOX_PATH = '/api/v2/sandbox/connection-details';
const TIMEOUT_MS = 10_000;
const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '..', 'tests', 'fixtures', 'token_requests');

/** JSON with sorted keys, to compare values whatever their key order. */
function canon(value) {
  if (Array.isArray(value)) return `[${value.map(canon).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canon(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
function expectEqual(got, want, what) {
  expect(canon(got) === canon(want), `${what}: got ${canon(got)}, want ${canon(want)}`);
}
function within(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A proxy on 127.0.0.1 in front of the demo that records every request and its answer. */
async function startProxy(target) {
  const arrived = [];
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = { ...req.headers };
    for (const hop of ['host', 'connection', 'content-length', 'keep-alive', 'transfer-encoding']) {
      delete headers[hop];
    }
    const entry = { method: req.method, path: req.url, headers: req.headers, body };
    arrived.push(entry);
    try {
      const answer = await fetch(`${target}${req.url}`, {
        method: req.method,
        headers,
        body: ['GET', 'HEAD'].includes(req.method) ? undefined : body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      entry.status = answer.status;
      entry.answer = await answer.text();
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
      res.end(entry.answer);
    } catch (e) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${e?.message ?? e}`);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** The requests that arrived since the last call. */
    take: () => arrived.splice(0),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** The claims as the Node SDK's TokenVerifier and the crate's Verifier (GET /whoami) see them. */
async function bothVerifiers(token) {
  const node = await new TokenVerifier(apiKey, apiSecret).verify(token);
  const response = await fetch(`${demo}/whoami`, {
    headers: { Authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await response.text();
  expect(response.status === 200, `GET /whoami: ${response.status} ${text}`);
  const ours = JSON.parse(text);
  const views = {
    TokenVerifier: {
      identity: node.sub ?? '',
      name: node.name ?? '',
      metadata: node.metadata ?? '',
      attributes: node.attributes ?? {},
      room: node.video?.room ?? '',
      join: node.video?.roomJoin === true,
      agents: node.roomConfig?.agents ?? [],
    },
    Verifier: {
      identity: ours.identity,
      name: ours.name,
      metadata: ours.metadata,
      attributes: ours.attributes,
      room: ours.room,
      join: ours.permissions?.roomJoin === true,
      agents: ours.roomConfig?.agents ?? [],
    },
  };
  expectEqual(views.Verifier, views.TokenVerifier, 'the two verifiers disagree');
  return views.Verifier;
}

/** Checks `token` with both verifiers against an expectation in the fixtures' format
 * (identity or room `null`: generated by the policy). Returns the claims. */
async function expectToken(token, want) {
  const got = await bothVerifiers(token);
  expect(got.join, 'no roomJoin grant');
  for (const field of ['identity', 'room']) {
    if (want[field] === null) expect(got[field] !== '', `no generated ${field}`);
    else expectEqual(got[field], want[field], field);
  }
  for (const field of ['name', 'metadata', 'attributes', 'agents']) {
    expectEqual(got[field], want[field], field);
  }
  return got;
}

const META = '{"avatar":"https://example.com/a/zoe.png"}';
const AGENT_META = '{"lang":"fr"}';
const attributes = { team: 'blue', tier: 'gold' };
const options = {
  roomName: 'support-room',
  participantIdentity: 'js-user-1',
  participantName: 'Zoë Client',
  participantMetadata: META,
  participantAttributes: attributes,
  agentName: 'support-agent',
  agentMetadata: AGENT_META,
  deployment: 'staging',
};
const granted = {
  identity: 'js-user-1',
  name: 'Zoë Client',
  metadata: META,
  attributes,
  room: 'support-room',
  agents: [{ agentName: 'support-agent', metadata: AGENT_META, deployment: 'staging' }],
};
const wsUrl = demo.replace(/^http/, 'ws');

const proxy = await startProxy(demo);
try {
  const endpoint = TokenSource.endpoint(`${proxy.url}/token`, {
    headers: { Authorization: 'Bearer app-session-1' },
  });
  let first;

  await check('TokenSource.endpoint: fetch sends snake_case JSON, Content-Type and the given headers', async () => {
    first = await within(endpoint.fetch(options), 'fetch');
    const arrived = proxy.take();
    expect(arrived.length === 1, `${arrived.length} requests`);
    const [request] = arrived;
    expect(request.method === 'POST' && request.path === '/token', `${request.method} ${request.path}`);
    expect(request.headers['content-type'] === 'application/json', `content-type ${request.headers['content-type']}`);
    expect(request.headers.authorization === 'Bearer app-session-1', 'the Authorization header is missing');
    expectEqual(JSON.parse(request.body), {
      room_name: 'support-room',
      participant_name: 'Zoë Client',
      participant_identity: 'js-user-1',
      participant_metadata: META,
      participant_attributes: attributes,
      room_config: { agents: [{ agent_name: 'support-agent', metadata: AGENT_META, deployment: 'staging' }] },
    }, 'body');
    expect(request.status === 201, `status ${request.status}`);
    return request.body;
  });

  await check('TokenSource.endpoint: the token carries identity, name, metadata, attributes, room and agent dispatch', async () => {
    expect(first?.serverUrl === wsUrl, `serverUrl ${first?.serverUrl}`);
    await expectToken(first.participantToken, granted);
    return 'TokenVerifier and Verifier agree';
  });

  await check('cache: the same options again: the same token, no request', async () => {
    const again = await within(endpoint.fetch(options), 'fetch');
    expect(proxy.take().length === 0, 'a request was sent');
    expect(again.participantToken === first.participantToken, 'another token');
  });

  await check('cache: a copy of the options (the same attributes object): the same token, no request', async () => {
    const again = await within(endpoint.fetch({ ...options }), 'fetch');
    expect(proxy.take().length === 0, 'a request was sent');
    expect(again.participantToken === first.participantToken, 'another token');
  });

  await check('cache: equal attributes in a new object are fetched again (livekit-client 2.23.0 compares them by reference)', async () => {
    await within(endpoint.fetch({ ...options, participantAttributes: { ...attributes } }), 'fetch');
    expect(proxy.take().length === 1, 'no request: the cache now compares attributes by value');
  });

  await check('cache: other options: a new request and a token for them', async () => {
    const other = await within(endpoint.fetch({ ...options, roomName: 'another-room', participantIdentity: 'js-user-2' }), 'fetch');
    expect(proxy.take().length === 1, 'no request');
    expect(other.participantToken !== first.participantToken, 'the same token');
    await expectToken(other.participantToken, { ...granted, room: 'another-room', identity: 'js-user-2' });
  });

  const development = TokenSource.developmentTokenServer('js-sandbox-1', { baseUrl: proxy.url });
  const devOptions = { participantName: 'Zoë Client', agentName: 'support-agent' };
  let dev;

  await check('TokenSource.developmentTokenServer(id, {baseUrl}): a token from the local demo', async () => {
    dev = await within(development.fetch(devOptions), 'fetch');
    const [request, ...rest] = proxy.take();
    expect(rest.length === 0, `${rest.length + 1} requests`);
    expect(request.path === SANDBOX_PATH, `path ${request.path}`);
    expect(request.headers['x-sandbox-id'] === 'js-sandbox-1', `X-Sandbox-ID ${request.headers['x-sandbox-id']}`);
    expect(request.headers['content-type'] === 'application/json', `content-type ${request.headers['content-type']}`);
    expect(dev.serverUrl === wsUrl, `serverUrl ${dev.serverUrl}`);
    const claims = await expectToken(dev.participantToken, {
      identity: null, name: 'Zoë Client', metadata: '', attributes: {}, room: null,
      agents: [{ agentName: 'support-agent' }],
    });
    const answer = JSON.parse(request.answer);
    expect(answer.room_name === claims.room, `room_name ${answer.room_name}, token ${claims.room}`);
    expect(answer.participant_name === 'Zoë Client', `participant_name ${answer.participant_name}`);
    return `room ${claims.room}, identity ${claims.identity}`;
  });

  await check('TokenSource.developmentTokenServer: cached like the endpoint', async () => {
    const again = await within(development.fetch(devOptions), 'fetch');
    expect(proxy.take().length === 0, 'a request was sent');
    expect(again.participantToken === dev.participantToken, 'another token');
  });

  await check('TokenSource.developmentTokenServer: an empty ID is refused with 400 naming X-Sandbox-ID', async () => {
    const anonymous = TokenSource.developmentTokenServer('', { baseUrl: proxy.url });
    let err;
    try {
      await within(anonymous.fetch({}), 'fetch');
    } catch (e) {
      err = e;
    }
    expect(err, 'the fetch succeeded');
    const [request] = proxy.take();
    expect(request?.status === 400, `status ${request?.status}`);
    expect(String(err.message).includes('400') && String(err.message).includes('X-Sandbox-ID'), err.message);
  });

  await check('a field the policy does not accept (room_config.egress) is refused with 403 naming it, not dropped', async () => {
    // LiveKit's endpoint standard: "For fields clients aren't allowed to set, return a 4xx".
    const response = await fetch(`${demo}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        room_name: 'egress-room',
        room_config: { egress: { room: { room_name: 'egress-room' } }, agents: [{ agent_name: 'a' }] },
      }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await response.text();
    expect(response.status === 403, `${response.status} ${text}`);
    const answer = JSON.parse(text);
    expect(answer.error === 'field_not_allowed', `error ${answer.error}`);
    expectEqual(answer.fields, ['room_config.egress'], 'fields');
    expect(String(answer.message).includes('room_config.egress'), `message ${answer.message}`);
  });

  for (const file of readdirSync(fixtures).filter((f) => f.endsWith('.json')).sort()) {
    const fixture = JSON.parse(readFileSync(join(fixtures, file), 'utf8'));
    for (const recorded of fixture.requests) {
      await check(`recorded ${fixture.sdk} ${fixture.version}: ${recorded.name}`, async () => {
        const response = await fetch(`${demo}${recorded.path}`, {
          method: 'POST',
          headers: recorded.headers,
          body: recorded.body,
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        const text = await response.text();
        expect(response.status === 201, `${response.status} ${text}`);
        const answer = JSON.parse(text);
        expect(answer.server_url === wsUrl, `server_url ${answer.server_url}`);
        const claims = await expectToken(answer.participant_token, recorded.expect);
        if (recorded.path === SANDBOX_PATH) {
          expect(answer.room_name === claims.room, `room_name ${answer.room_name}`);
          expect(answer.participant_name === (claims.name || claims.identity), `participant_name ${answer.participant_name}`);
        }
      });
    }
  }

  await check('livekit-client ran in Node without a DOM or any polyfill', async () => {
    // Node 21+ has a `navigator` of its own; Node 20, the version CI runs, has none of these.
    const defined = BROWSER_GLOBALS.filter((name) => browserValues.get(name) !== undefined);
    expect(defined.every((name) => name === 'navigator'), `defined: ${defined.join(', ')}`);
    const read = [...browserReads].sort();
    return `Node ${process.version}; browser globals it looked for: ${read.join(', ') || 'none'}; defined: ${defined.join(', ') || 'none'}`;
  });
} finally {
  await proxy.close();
}

finish();
