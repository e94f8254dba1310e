#!/usr/bin/env node
// Conformance checks: the official Node server SDK (`livekit-server-sdk` from npm) against `lktop sandbox`.
//
// Reads LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET from the environment (as printed by
// `lktop sandbox`), expects a server with no other clients touching the room it uses, and prints one
// line per check (`ok   NAME` or `FAIL NAME: REASON`), then `N passed, M failed`. Exits 1 if any check
// failed, 2 on a usage error. The Node SDK speaks JSON (`application/json;charset=UTF-8`).

import { createHmac } from 'node:crypto';
import {
  DataPacket_Kind,
  RoomServiceClient,
  TrackSource,
  TrackType,
} from 'livekit-server-sdk';

import {
  assert,
  check,
  eq,
  expectError,
  run,
  sdkVersion,
  serverFromEnv,
  show,
  summary,
  token,
} from './harness.mjs';

const ROOM = process.env.CONFORMANCE_ROOM || 'node-r1';
const IDENTITY = 'alice';
const ROOM_METADATA = '{"a":1}';
const NEW_ROOM_METADATA = '{"a":2,"by":"node"}';

/** An HS256 JWT signed correctly but expired ten minutes ago (the SDK cannot make one). */
function expiredToken(key, secret) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const head = b64({ alg: 'HS256', typ: 'JWT' });
  const body = b64({ iss: key, nbf: now - 1200, exp: now - 600, video: { roomList: true } });
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

async function main() {
  const server = serverFromEnv();
  if (!server) return 2;
  const { url, key, secret } = server;
  const httpBase = url.replace(/^ws(s?):\/\//, 'http$1://').replace(/\/+$/, '');
  console.log(`# livekit-server-sdk ${sdkVersion()} (JSON) against ${url}, room ${JSON.stringify(ROOM)}`);

  const svc = new RoomServiceClient(url, key, secret);
  const state = {};

  // Leftovers of an earlier, interrupted run against the same server would skew the checks.
  try {
    await svc.deleteRoom(ROOM);
  } catch {
    // not_found is the normal case
  }

  // ---- rooms ----------------------------------------------------------------------------------
  await check('create_room', async () => {
    const r = await svc.createRoom({
      name: ROOM,
      emptyTimeout: 600,
      maxParticipants: 20,
      metadata: ROOM_METADATA,
    });
    eq('name', r.name, ROOM);
    assert(r.sid, 'sid is empty');
    eq('emptyTimeout', r.emptyTimeout, 600);
    eq('maxParticipants', r.maxParticipants, 20);
    eq('metadata', r.metadata, ROOM_METADATA);
    assert(r.creationTime > 0n, `creationTime: got ${r.creationTime}, want > 0`);
    state.sid = r.sid;
  });

  await check('create_room_existing_returns_same', async () => {
    const r = await svc.createRoom({ name: ROOM, emptyTimeout: 600, maxParticipants: 20 });
    eq('name', r.name, ROOM);
    eq('sid', r.sid, state.sid);
    eq('metadata', r.metadata, ROOM_METADATA);
  });

  await check('list_rooms_all', async () => {
    const rooms = await svc.listRooms();
    const names = rooms.map((r) => r.name);
    assert(names.includes(ROOM), `${JSON.stringify(ROOM)} not in ${show(names)}`);
    const r = rooms.find((x) => x.name === ROOM);
    eq('sid', r.sid, state.sid);
    eq('emptyTimeout', r.emptyTimeout, 600);
    eq('maxParticipants', r.maxParticipants, 20);
  });

  await check('list_rooms_names_filter', async () => {
    const rooms = await svc.listRooms([ROOM]);
    eq('rooms', rooms.map((r) => r.name), [ROOM]);
  });

  await check('list_rooms_unknown_name', async () => {
    const rooms = await svc.listRooms(['nope']);
    eq('rooms', rooms.map((r) => r.name), []);
  });

  await check('update_room_metadata', async () => {
    const r = await svc.updateRoomMetadata(ROOM, NEW_ROOM_METADATA);
    eq('returned name', r.name, ROOM);
    eq('returned metadata', r.metadata, NEW_ROOM_METADATA);
    const rooms = await svc.listRooms([ROOM]);
    eq('rooms', rooms.map((x) => x.name), [ROOM]);
    eq('metadata in a later list', rooms[0].metadata, NEW_ROOM_METADATA);
  });

  // ---- participants ---------------------------------------------------------------------------
  await check('sandbox_hook_add_participant', async () => {
    const hookToken = await token(key, secret, { roomAdmin: true, room: ROOM });
    const resp = await fetch(`${httpBase}/sandbox/rooms/${encodeURIComponent(ROOM)}/participants`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${hookToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        identity: IDENTITY,
        name: 'Alice',
        tracks: [
          { type: 'audio', source: 'microphone', name: 'mic' },
          { type: 'video', source: 'camera', name: 'cam' },
        ],
      }),
    });
    const text = await resp.text();
    eq(`hook HTTP status (body ${JSON.stringify(text.slice(0, 200))})`, resp.status, 200);
    eq('hook identity', JSON.parse(text).identity, IDENTITY);
  });

  function checkTracks(p) {
    eq('track count', p.tracks.length, 2);
    const audio = p.tracks.find((t) => t.type === TrackType.AUDIO);
    const video = p.tracks.find((t) => t.type === TrackType.VIDEO);
    eq(
      'track types',
      p.tracks.map((t) => TrackType[t.type]).sort(),
      ['AUDIO', 'VIDEO'],
    );
    eq('audio source', TrackSource[audio.source], 'MICROPHONE');
    eq('video source', TrackSource[video.source], 'CAMERA');
    eq('audio name', audio.name, 'mic');
    eq('video name', video.name, 'cam');
    for (const t of p.tracks) assert(t.sid, `track ${JSON.stringify(t.name)} has an empty sid`);
    state.audioSid = audio.sid;
    state.videoSid = video.sid;
  }

  await check('list_participants', async () => {
    const ps = await svc.listParticipants(ROOM);
    eq('identities', ps.map((p) => p.identity), [IDENTITY]);
    const p = ps[0];
    assert(p.sid, 'participant sid is empty');
    eq('name', p.name, 'Alice');
    checkTracks(p);
    state.participantSid = p.sid;
  });

  await check('get_participant', async () => {
    const p = await svc.getParticipant(ROOM, IDENTITY);
    eq('identity', p.identity, IDENTITY);
    eq('sid', p.sid, state.participantSid);
    eq('name', p.name, 'Alice');
    checkTracks(p);
  });

  await check('mute_published_track', async () => {
    assert(state.audioSid, 'no audio track sid (list_participants failed)');
    const t = await svc.mutePublishedTrack(ROOM, IDENTITY, state.audioSid, true);
    assert(t, 'response carries no track');
    eq('returned track sid', t.sid, state.audioSid);
    eq('returned muted', t.muted, true);
    const p = await svc.getParticipant(ROOM, IDENTITY);
    const muted = Object.fromEntries(p.tracks.map((x) => [x.sid, x.muted]));
    eq('audio muted in a later get', muted[state.audioSid], true);
    eq('video muted in a later get', muted[state.videoSid], false);
  });

  await check('update_participant', async () => {
    const p = await svc.updateParticipant(ROOM, IDENTITY, {
      metadata: '{"role":"host"}',
      name: 'Alice B',
    });
    eq('returned identity', p.identity, IDENTITY);
    eq('returned metadata', p.metadata, '{"role":"host"}');
    eq('returned name', p.name, 'Alice B');
    const q = await svc.getParticipant(ROOM, IDENTITY);
    eq('metadata in a later get', q.metadata, '{"role":"host"}');
    eq('name in a later get', q.name, 'Alice B');
  });

  await check('update_subscriptions', async () => {
    assert(state.videoSid, 'no video track sid (list_participants failed)');
    await svc.updateSubscriptions(ROOM, IDENTITY, [state.videoSid], true);
  });

  await check('send_data', async () => {
    await svc.sendData(ROOM, new TextEncoder().encode('hello from node'), DataPacket_Kind.RELIABLE, {
      destinationIdentities: [IDENTITY],
      topic: 'conformance',
    });
  });

  await check('remove_participant', async () => {
    await svc.removeParticipant(ROOM, IDENTITY);
    await expectError(
      svc.getParticipant(ROOM, IDENTITY),
      'not_found',
      404,
      'participant does not exist',
    );
  });

  await check('get_participant_unknown_not_found', async () => {
    await expectError(
      svc.getParticipant(ROOM, 'nobody'),
      'not_found',
      404,
      'participant does not exist',
    );
  });

  // ---- deletion and missing rooms -------------------------------------------------------------
  await check('delete_room', async () => {
    await svc.deleteRoom(ROOM);
    const rooms = await svc.listRooms([ROOM]);
    eq('rooms after delete', rooms.map((r) => r.name), []);
  });

  await check('delete_room_again_not_found', async () => {
    await expectError(svc.deleteRoom(ROOM), 'not_found', 404, 'requested room does not exist');
  });

  await check('update_room_metadata_missing_not_found', async () => {
    await expectError(
      svc.updateRoomMetadata('node-missing-room', 'x'),
      'not_found',
      404,
      'requested room does not exist',
    );
  });

  // ---- auth -----------------------------------------------------------------------------------
  await check('wrong_secret_unauthenticated', async () => {
    const bad = new RoomServiceClient(url, key, `${secret}-wrong`);
    await expectError(bad.listRooms(), 'unauthenticated', 401);
  });

  await check('expired_token_unauthenticated', async () => {
    const client = new RoomServiceClient(url, undefined, undefined, {
      token: expiredToken(key, secret),
    });
    await expectError(client.listRooms(), 'unauthenticated', 401);
  });

  await check('missing_grant_raw_unauthenticated', async () => {
    // A join-only token: valid signature, no roomList grant.
    const joinOnly = await token(key, secret, { roomJoin: true, room: 'x' });
    const resp = await fetch(`${httpBase}/twirp/livekit.RoomService/ListRooms`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${joinOnly}`, 'Content-Type': 'application/json' },
      body: '{}',
    });
    const text = await resp.text();
    eq(`HTTP status (body ${JSON.stringify(text.slice(0, 200))})`, resp.status, 401);
    eq('Content-Type', resp.headers.get('content-type'), 'application/json');
    const body = JSON.parse(text);
    eq('code', body.code, 'unauthenticated');
    eq('msg', body.msg, 'permissions denied');
  });

  await check('missing_grant_sdk_unauthenticated', async () => {
    // Same, through the SDK: a roomList-only token may not create rooms.
    const listOnly = await token(key, secret, { roomList: true });
    const client = new RoomServiceClient(url, undefined, undefined, { token: listOnly });
    await expectError(client.createRoom({ name: 'node-not-allowed' }), 'unauthenticated', 401);
  });

  return summary();
}

run(main);
