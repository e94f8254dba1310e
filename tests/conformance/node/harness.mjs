// The check harness of the Node conformance scripts: running each check with a time bound, one line
// per check (`ok   NAME` or `FAIL NAME: REASON`), the closing `N passed, M failed` line run.sh adds
// up, the comparisons and expected errors the checks use, tokens, and the server's address and
// credentials from the environment.

import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { AccessToken, TwirpError } from 'livekit-server-sdk';

const TOTAL_TIMEOUT_MS = 60_000; // the whole script
const CHECK_TIMEOUT_MS = 15_000; // one check (the SDK's own request timeout is 10 s)

let passed = 0;
let failed = 0;

function fail(name, reason) {
  console.log(`FAIL ${name}: ${String(reason).split(/\s+/).join(' ')}`);
  failed += 1;
}

/** Prints the closing `N passed, M failed` line; returns the exit code. */
export function summary() {
  console.log(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

export class CheckFailure extends Error {}

function describe(e) {
  if (e instanceof CheckFailure) return e.message;
  if (e instanceof TwirpError) {
    return `unexpected error: code=${e.code} status=${e.status} msg=${JSON.stringify(e.message)}`;
  }
  const cause = e?.cause ? ` (cause: ${e.cause.code ?? e.cause.message ?? e.cause})` : '';
  return `${e?.name ?? 'Error'}: ${e?.message ?? e}${cause}`;
}

export async function check(name, fn) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new CheckFailure(`timed out after ${CHECK_TIMEOUT_MS / 1000} s`)),
      CHECK_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([fn(), timeout]);
    console.log(`ok   ${name}`);
    passed += 1;
    return true;
  } catch (e) {
    fail(name, describe(e));
    if (process.env.CONFORMANCE_DEBUG) console.error(e);
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export function show(v) {
  return JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x));
}

export function eq(what, got, want) {
  if (!isDeepStrictEqual(got, want)) {
    throw new CheckFailure(`${what}: got ${show(got)}, want ${show(want)}`);
  }
}

export function assert(cond, msg) {
  if (!cond) throw new CheckFailure(msg);
}

/**
 * Awaits a call that must fail with the given Twirp code and HTTP status (and `message`, when
 * given); returns the error.
 */
export async function expectError(promise, code, status, message) {
  let res;
  try {
    res = await promise;
  } catch (e) {
    if (!(e instanceof TwirpError)) throw e;
    assert(
      e.code === code && e.status === status,
      `got error code=${e.code} status=${e.status} msg=${JSON.stringify(e.message)}, ` +
        `want code=${code} status=${status}`,
    );
    if (message !== undefined) eq('message', e.message, message);
    return e;
  }
  throw new CheckFailure(`call succeeded (${show(res)?.slice(0, 200)}), want ${code} (${status})`);
}

export async function token(key, secret, grant) {
  const at = new AccessToken(key, secret, { identity: 'conformance-node' });
  at.addGrant(grant);
  return at.toJwt();
}

/** LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET as `lktop sandbox` prints them; null (after
 * saying so) when one is missing. */
export function serverFromEnv() {
  const url = process.env.LIVEKIT_URL;
  const key = process.env.LIVEKIT_API_KEY;
  const secret = process.env.LIVEKIT_API_SECRET;
  if (!url || !key || !secret) {
    console.error('error: LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET must be set');
    return null;
  }
  return { url, key, secret };
}

/** The version of the installed `livekit-server-sdk`. */
export function sdkVersion() {
  return JSON.parse(
    readFileSync(new URL('./node_modules/livekit-server-sdk/package.json', import.meta.url)),
  ).version;
}

/**
 * Runs a script's checks, `main` (which resolves to the exit code), and exits. The whole run is
 * bounded: past the limit, it reports what it has and fails.
 */
export function run(main) {
  const totalTimer = setTimeout(() => {
    fail('total_time', `the whole run took more than ${TOTAL_TIMEOUT_MS / 1000} s`);
    summary();
    process.exit(1);
  }, TOTAL_TIMEOUT_MS);
  main()
    .then((code) => {
      clearTimeout(totalTimer);
      // Keep-alive sockets of fetch would hold the event loop open for a while: exit now.
      process.exit(code);
    })
    .catch((e) => {
      fail('node_checks', describe(e));
      summary();
      process.exit(1);
    });
}
