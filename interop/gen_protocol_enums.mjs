// Writes tests/fixtures/protocol_enums.json: name -> number of every LiveKit protobuf enum that
// the crate mirrors, read from the generated code of @livekit/protocol (the version the pinned
// livekit-server-sdk depends on, from package-lock.json). tests/protocol_enums.rs checks each
// crate enum against it; .ci/run regenerates it and fails when it changes, so a new protocol
// version that adds or renumbers a value cannot go unnoticed.
//
//   bash interop/setup.sh && node interop/gen_protocol_enums.mjs [out.json]
//
// The output is deterministic (values sorted by number, fixed key order): the same
// @livekit/protocol gives the same bytes.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protocol from '@livekit/protocol';

// The protocol's exported enum -> the crate type that mirrors it.
const ENUMS = {
  TrackSource: 'TrackSource',
  ParticipantInfo_Kind: 'ParticipantKind',
  ParticipantInfo_KindDetail: 'KindDetail',
  JobRestartPolicy: 'JobRestartPolicy',
};

function fail(message) {
  console.error(`gen_protocol_enums: ${message}`);
  process.exit(1);
}

// The @livekit/protocol imported here must be the one livekit-server-sdk itself loads (npm may
// nest a second copy under the SDK if their version ranges ever part).
const here = dirname(fileURLToPath(import.meta.url));
const ours = createRequire(`${here}/`).resolve('@livekit/protocol');
const sdks = createRequire(createRequire(`${here}/`).resolve('livekit-server-sdk')).resolve(
  '@livekit/protocol',
);
if (ours !== sdks) {
  fail(`interop/ loads ${ours} but livekit-server-sdk loads ${sdks}; run bash interop/setup.sh`);
}
// Its package.json (not exported, so found by walking up from the entry point).
let dir = dirname(ours);
while (!existsSync(`${dir}/package.json`) && dir !== dirname(dir)) dir = dirname(dir);
const manifest = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8'));
if (manifest.name !== '@livekit/protocol') fail(`no package.json of @livekit/protocol above ${ours}`);
const version = manifest.version;
if (protocol.version !== undefined && protocol.version !== version) {
  fail(`@livekit/protocol says version ${protocol.version}, its package.json ${version}`);
}

const enums = {};
for (const [exported, crateType] of Object.entries(ENUMS)) {
  const e = protocol[exported];
  if (e === undefined) fail(`@livekit/protocol ${version} exports no ${exported}`);
  // A TypeScript numeric enum: NAME -> number, and number -> NAME for the reverse lookup.
  const values = Object.entries(e)
    .filter(([, n]) => typeof n === 'number')
    .sort(([, a], [, b]) => a - b);
  if (values.length === 0) fail(`${exported} has no values`);
  for (const [name, n] of values) {
    if (!Number.isInteger(n) || e[n] !== name) fail(`${exported}.${name} = ${n} is not an enum value`);
  }
  enums[exported] = { crate_type: crateType, values: Object.fromEntries(values) };
}

const out = process.argv[2] ?? `${dirname(here)}/tests/fixtures/protocol_enums.json`;
const fixture = { generator: 'interop/gen_protocol_enums.mjs', package: '@livekit/protocol', version, enums };
writeFileSync(out, JSON.stringify(fixture, null, 2) + '\n');
console.log(`gen_protocol_enums: ${Object.keys(enums).length} enums of @livekit/protocol ${version} -> ${out}`);
