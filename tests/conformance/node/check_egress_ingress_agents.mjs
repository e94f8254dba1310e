#!/usr/bin/env node
// Conformance checks: the official Node server SDK (`livekit-server-sdk` from npm) against `lktop sandbox`'s
// Egress, Ingress and AgentDispatchService: start, list and stop an egress; create, list and delete an
// ingress and a dispatch; livekit-server's errors for a missing id and a missing grant.
//
// Reads LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET from the environment (as printed by
// `lktop sandbox`), expects a server with no other clients touching the room it uses, and prints one
// line per check (`ok   NAME` or `FAIL NAME: REASON`), then `N passed, M failed`. Exits 1 if any check
// failed, 2 on a usage error. The Node SDK speaks JSON (`application/json;charset=UTF-8`).

import {
  AgentDispatchClient,
  EgressClient,
  EgressStatus,
  EncodedFileOutput,
  IngressClient,
  IngressInput,
  RoomServiceClient,
} from 'livekit-server-sdk';

import {
  assert,
  check,
  eq,
  expectError,
  run,
  sdkVersion,
  serverFromEnv,
  summary,
  token,
} from './harness.mjs';

const ROOM = process.env.CONFORMANCE_SERVICES_ROOM || 'node-services';

async function main() {
  const server = serverFromEnv();
  if (!server) return 2;
  const { url, key, secret } = server;
  console.log(`# livekit-server-sdk ${sdkVersion()} (JSON) egress/ingress/agents against ${url}`);

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
    await expectError(
      egress.stopEgress(state.egressId),
      'failed_precondition',
      412,
      'egress with status EGRESS_ENDING cannot be stopped',
    );
  });

  await check('egress_stop_missing_not_found', async () => {
    await expectError(egress.stopEgress('EG_missing'), 'not_found', 404, 'egress does not exist');
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
    await expectError(
      ingress.deleteIngress(state.ingressId),
      'not_found',
      404,
      'ingress does not exist',
    );
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
    await expectError(
      dispatch.deleteDispatch(state.dispatchId, ROOM),
      'not_found',
      404,
      'dispatch ID not found',
    );
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
  return summary();
}

run(main);
