#!/usr/bin/env node
// Conformance checks: the official Node server SDK (`livekit-server-sdk` from npm) against `lktop sandbox`'s
// Egress, Ingress and AgentDispatchService: start, list and stop an egress; create, list and delete an
// ingress and a dispatch; livekit-server's errors for a missing id and a missing grant.
//
// Reads LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET from the environment (as printed by
// `lktop sandbox`), expects a server with no other clients touching the room it uses, and prints one
// line per check (`ok   NAME` or `FAIL NAME: REASON`), then `N passed, M failed`. Exits 1 if any check
// failed, 2 on a usage error. The Node SDK speaks JSON (`application/json;charset=UTF-8`).

import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import {
  AccessToken,
  AgentDispatchClient,
  EgressClient,
  EgressStatus,
  EncodedFileOutput,
  IngressClient,
  IngressInput,
  RoomServiceClient,
  TwirpError,
} from 'livekit-server-sdk';

const TOTAL_TIMEOUT_MS = 60_000; // the whole script
const CHECK_TIMEOUT_MS = 15_000; // one check (the SDK's own request timeout is 10 s)

const ROOM = process.env.CONFORMANCE_SERVICES_ROOM || 'node-services';

let passed = 0;
let failed = 0;

function fail(name, reason) {
  console.log(`FAIL ${name}: ${String(reason).split(/\s+/).join(' ')}`);
  failed += 1;
}

function summary() {
  console.log(`${passed} passed, ${failed} failed`);
}

// The whole run is bounded: past the limit, report what we have and fail.
const totalTimer = setTimeout(() => {
  fail('total_time', `the whole run took more than ${TOTAL_TIMEOUT_MS / 1000} s`);
  summary();
  process.exit(1);
}, TOTAL_TIMEOUT_MS);

class CheckFailure extends Error {}

function describe(e) {
  if (e instanceof CheckFailure) return e.message;
  if (e instanceof TwirpError) {
    return `unexpected error: code=${e.code} status=${e.status} msg=${JSON.stringify(e.message)}`;
  }
  const cause = e?.cause ? ` (cause: ${e.cause.code ?? e.cause.message ?? e.cause})` : '';
  return `${e?.name ?? 'Error'}: ${e?.message ?? e}${cause}`;
}

async function check(name, fn) {
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

function show(v) {
  return JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x));
}

function eq(what, got, want) {
  if (!isDeepStrictEqual(got, want)) {
    throw new CheckFailure(`${what}: got ${show(got)}, want ${show(want)}`);
  }
}

function assert(cond, msg) {
  if (!cond) throw new CheckFailure(msg);
}

/** Awaits a call that must fail with the given Twirp code and HTTP status; returns the error. */
async function expectError(promise, code, status) {
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
    return e;
  }
  throw new CheckFailure(`call succeeded (${show(res)?.slice(0, 200)}), want ${code} (${status})`);
}

async function token(key, secret, grant) {
  const at = new AccessToken(key, secret, { identity: 'conformance-node' });
  at.addGrant(grant);
  return at.toJwt();
}


async function main() {
  const url = process.env.LIVEKIT_URL;
  const key = process.env.LIVEKIT_API_KEY;
  const secret = process.env.LIVEKIT_API_SECRET;
  if (!url || !key || !secret) {
    console.error('error: LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET must be set');
    return 2;
  }
  const sdkVersion = JSON.parse(
    readFileSync(new URL('./node_modules/livekit-server-sdk/package.json', import.meta.url)),
  ).version;
  console.log(`# livekit-server-sdk ${sdkVersion} (JSON) egress/ingress/agents against ${url}`);

  const rooms = new RoomServiceClient(url, key, secret);
  const egress = new EgressClient(url, key, secret);
  const ingress = new IngressClient(url, key, secret);
  const dispatch = new AgentDispatchClient(url, key, secret);
  const state = {};
  await rooms.createRoom({ name: ROOM });

  // ---- egress ---------------------------------------------------------------------------------
  await check('egress_start_room_composite', async () => {
    const info = await egress.startRoomCompositeEgress(ROOM, {
      file: new EncodedFileOutput({ filepath: 'rec/{room_name}.mp4' }),
    });
    assert(info.egressId.startsWith('EG_'), `egress id ${info.egressId}`);
    eq('status', info.status, EgressStatus.EGRESS_STARTING);
    eq('room', info.roomName, ROOM);
    eq('file', info.fileResults[0]?.filename, `rec/${ROOM}.mp4`);
    state.egressId = info.egressId;
  });

  await check('egress_list_by_room_and_id', async () => {
    const byRoom = await egress.listEgress({ roomName: ROOM });
    eq('by room', byRoom.map((i) => i.egressId), [state.egressId]);
    const byId = await egress.listEgress({ egressId: state.egressId });
    eq('by id', byId.length, 1);
  });

  await check('egress_stop', async () => {
    const info = await egress.stopEgress(state.egressId);
    eq('status', info.status, EgressStatus.EGRESS_ENDING);
  });

  await check('egress_stop_again_failed_precondition', async () => {
    const e = await expectError(egress.stopEgress(state.egressId), 'failed_precondition', 412);
    eq('message', e.message, 'egress with status EGRESS_ENDING cannot be stopped');
  });

  await check('egress_stop_missing_not_found', async () => {
    const e = await expectError(egress.stopEgress('EG_missing'), 'not_found', 404);
    eq('message', e.message, 'egress does not exist');
  });

  await check('egress_missing_grant_unauthenticated', async () => {
    const noRecord = await token(key, secret, { roomAdmin: true, room: ROOM, roomList: true });
    const client = new EgressClient(url, undefined, undefined, { token: noRecord });
    await expectError(client.listEgress({}), 'unauthenticated', 401);
  });

  // ---- ingress --------------------------------------------------------------------------------
  await check('ingress_create', async () => {
    const info = await ingress.createIngress(IngressInput.RTMP_INPUT, {
      name: 'node camera',
      roomName: ROOM,
      participantIdentity: 'node-cam',
    });
    assert(info.ingressId.startsWith('IN_'), `ingress id ${info.ingressId}`);
    assert(info.url.startsWith('rtmp://') && info.streamKey.length === 12, `url ${info.url}`);
    // ENDPOINT_INACTIVE is 0 (the SDK does not export the enum).
    eq('state', info.state?.status ?? 0, 0);
    state.ingressId = info.ingressId;
  });

  await check('ingress_list', async () => {
    const items = await ingress.listIngress({ roomName: ROOM });
    eq('ids', items.map((i) => i.ingressId), [state.ingressId]);
  });

  await check('ingress_delete', async () => {
    const info = await ingress.deleteIngress(state.ingressId);
    eq('id', info.ingressId, state.ingressId);
  });

  await check('ingress_delete_missing_not_found', async () => {
    const e = await expectError(ingress.deleteIngress(state.ingressId), 'not_found', 404);
    eq('message', e.message, 'ingress does not exist');
  });

  await check('ingress_missing_grant_unauthenticated', async () => {
    const noIngress = await token(key, secret, { roomRecord: true });
    const client = new IngressClient(url, undefined, undefined, { token: noIngress });
    await expectError(client.listIngress({}), 'unauthenticated', 401);
  });

  // ---- agent dispatch -------------------------------------------------------------------------
  await check('dispatch_create', async () => {
    const d = await dispatch.createDispatch(ROOM, 'node-agent', { metadata: '{}' });
    assert(d.id.startsWith('AD_'), `dispatch id ${d.id}`);
    state.dispatchId = d.id;
  });

  await check('dispatch_list', async () => {
    const ds = await dispatch.listDispatch(ROOM);
    eq('ids', ds.map((d) => d.id), [state.dispatchId]);
  });

  await check('dispatch_delete', async () => {
    await dispatch.deleteDispatch(state.dispatchId, ROOM);
    eq('left', (await dispatch.listDispatch(ROOM)).length, 0);
  });

  await check('dispatch_delete_missing_not_found', async () => {
    const e = await expectError(dispatch.deleteDispatch(state.dispatchId, ROOM), 'not_found', 404);
    eq('message', e.message, 'dispatch ID not found');
  });

  await check('dispatch_missing_grant_unauthenticated', async () => {
    const otherRoom = await token(key, secret, { roomAdmin: true, room: 'elsewhere' });
    const client = new AgentDispatchClient(url, undefined, undefined, { token: otherRoom });
    await expectError(client.listDispatch(ROOM), 'unauthenticated', 401);
  });

  try {
    await rooms.deleteRoom(ROOM);
  } catch {
    // a failed check may have left nothing to delete
  }
  summary();
  return failed ? 1 : 0;
}

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
