// The checks every interop script reports: `check(name, fn)` runs one and prints `ok` or
// `FAIL`, the `expect*` helpers throw with what was wrong, and `finish()` prints the tally and
// exits non-zero if anything failed.

let passed = 0;
let failed = 0;

/** Runs `fn` (sync or async); a thrown error fails the check. `fn` may return a detail. */
export async function check(name, fn) {
  try {
    const detail = await fn();
    passed += 1;
    console.log(`ok   ${name}${detail ? ` (${detail})` : ''}`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}: ${e?.message ?? e}`);
  }
}

export function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** Awaits `call` (an answer {status, body}), which must have `status`. */
export async function expectStatus(call, status) {
  const r = await call;
  expect(r.status === status, `expected ${status}, got ${r.status} ${r.body}`);
  return r;
}

/** Runs fn, which must throw the SDK's error with this HTTP status and twirp code. */
export async function expectServerError(fn, status, code) {
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

/** Prints `N passed, M failed` and exits: 0 when nothing failed. */
export function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}
