#!/usr/bin/env python3
"""Conformance checks: the official Python server SDK (`livekit-api` from PyPI) against `lktop sandbox`.

Reads LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET from the environment (as printed by
`lktop sandbox`), expects a server with no other clients touching the room it uses, and prints one
line per check (`ok   NAME` or `FAIL NAME: REASON`), then `N passed, M failed`. Exits 1 if any check
failed, 2 on a usage error. The Python SDK speaks protobuf (`application/protobuf`).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import sys
from typing import Any

import aiohttp
from livekit import api

from harness import (
    CHECK_TIMEOUT_S,
    Checks,
    eq,
    expect_error,
    expect_unauthenticated,
    run,
    server_from_env,
    token,
)

ROOM = os.environ.get("CONFORMANCE_ROOM", "py-r1")
IDENTITY = "alice"
ROOM_METADATA = '{"a":1}'
NEW_ROOM_METADATA = '{"a":2,"by":"python"}'


async def main(c: Checks) -> int:
    server = server_from_env()
    if server is None:
        return 2
    url, key, secret = server
    http_base = url.replace("ws://", "http://", 1).replace("wss://", "https://", 1).rstrip("/")
    print(f"# livekit-api {api.__version__} (protobuf) against {url}, room {ROOM!r}", flush=True)

    state: dict[str, Any] = {}
    lkapi = api.LiveKitAPI(url, key, secret)
    raw = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
    try:
        room = lkapi.room

        # Leftovers of an earlier, interrupted run against the same server would skew the checks.
        try:
            await asyncio.wait_for(room.delete_room(api.DeleteRoomRequest(room=ROOM)), CHECK_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - not_found is the normal case
            pass

        # ---- rooms -------------------------------------------------------------------------
        @c.check("create_room")
        async def create_room() -> None:
            r = await room.create_room(
                api.CreateRoomRequest(name=ROOM, empty_timeout=600, max_participants=20, metadata=ROOM_METADATA)
            )
            eq("name", r.name, ROOM)
            assert r.sid, "sid is empty"
            eq("empty_timeout", r.empty_timeout, 600)
            eq("max_participants", r.max_participants, 20)
            eq("metadata", r.metadata, ROOM_METADATA)
            assert r.creation_time > 0, f"creation_time: got {r.creation_time}, want > 0"
            state["sid"] = r.sid

        @c.check("create_room_existing_returns_same")
        async def create_room_again() -> None:
            r = await room.create_room(api.CreateRoomRequest(name=ROOM, empty_timeout=600, max_participants=20))
            eq("name", r.name, ROOM)
            eq("sid", r.sid, state.get("sid"))
            eq("metadata", r.metadata, ROOM_METADATA)

        @c.check("list_rooms_all")
        async def list_rooms_all() -> None:
            res = await room.list_rooms(api.ListRoomsRequest())
            names = [r.name for r in res.rooms]
            assert ROOM in names, f"{ROOM!r} not in {names!r}"
            r = next(r for r in res.rooms if r.name == ROOM)
            eq("sid", r.sid, state.get("sid"))
            eq("empty_timeout", r.empty_timeout, 600)
            eq("max_participants", r.max_participants, 20)

        @c.check("list_rooms_names_filter")
        async def list_rooms_names_filter() -> None:
            res = await room.list_rooms(api.ListRoomsRequest(names=[ROOM]))
            eq("rooms", [r.name for r in res.rooms], [ROOM])

        @c.check("list_rooms_unknown_name")
        async def list_rooms_unknown_name() -> None:
            res = await room.list_rooms(api.ListRoomsRequest(names=["nope"]))
            eq("rooms", [r.name for r in res.rooms], [])

        @c.check("update_room_metadata")
        async def update_room_metadata() -> None:
            r = await room.update_room_metadata(api.UpdateRoomMetadataRequest(room=ROOM, metadata=NEW_ROOM_METADATA))
            eq("returned name", r.name, ROOM)
            eq("returned metadata", r.metadata, NEW_ROOM_METADATA)
            res = await room.list_rooms(api.ListRoomsRequest(names=[ROOM]))
            eq("rooms", [r.name for r in res.rooms], [ROOM])
            eq("metadata in a later list", res.rooms[0].metadata, NEW_ROOM_METADATA)

        # ---- participants ------------------------------------------------------------------
        @c.check("sandbox_hook_add_participant")
        async def add_participant_hook() -> None:
            hook_token = token(key, secret, api.VideoGrants(room_admin=True, room=ROOM))
            body = {
                "identity": IDENTITY,
                "name": "Alice",
                "tracks": [
                    {"type": "audio", "source": "microphone", "name": "mic"},
                    {"type": "video", "source": "camera", "name": "cam"},
                ],
            }
            async with raw.post(
                f"{http_base}/sandbox/rooms/{ROOM}/participants",
                json=body,
                headers={"Authorization": f"Bearer {hook_token}"},
            ) as resp:
                text = await resp.text()
                eq(f"hook HTTP status (body {text[:200]!r})", resp.status, 200)
                p = json.loads(text)
                eq("hook identity", p.get("identity"), IDENTITY)

        def check_tracks(p: api.ParticipantInfo) -> None:
            eq("track count", len(p.tracks), 2)
            by_type = {t.type: t for t in p.tracks}
            eq("track types", sorted(by_type), [api.TrackType.AUDIO, api.TrackType.VIDEO])
            eq("audio source", by_type[api.TrackType.AUDIO].source, api.TrackSource.MICROPHONE)
            eq("video source", by_type[api.TrackType.VIDEO].source, api.TrackSource.CAMERA)
            eq("audio name", by_type[api.TrackType.AUDIO].name, "mic")
            eq("video name", by_type[api.TrackType.VIDEO].name, "cam")
            for t in p.tracks:
                assert t.sid, f"track {t.name!r} has an empty sid"
            state["audio_sid"] = by_type[api.TrackType.AUDIO].sid
            state["video_sid"] = by_type[api.TrackType.VIDEO].sid

        @c.check("list_participants")
        async def list_participants() -> None:
            res = await room.list_participants(api.ListParticipantsRequest(room=ROOM))
            eq("identities", [p.identity for p in res.participants], [IDENTITY])
            p = res.participants[0]
            assert p.sid, "participant sid is empty"
            eq("name", p.name, "Alice")
            check_tracks(p)
            state["participant_sid"] = p.sid

        @c.check("get_participant")
        async def get_participant() -> None:
            p = await room.get_participant(api.RoomParticipantIdentity(room=ROOM, identity=IDENTITY))
            eq("identity", p.identity, IDENTITY)
            eq("sid", p.sid, state.get("participant_sid"))
            eq("name", p.name, "Alice")
            check_tracks(p)

        @c.check("mute_published_track")
        async def mute_published_track() -> None:
            audio_sid = state.get("audio_sid")
            assert audio_sid, "no audio track sid (list_participants failed)"
            res = await room.mute_published_track(
                api.MuteRoomTrackRequest(room=ROOM, identity=IDENTITY, track_sid=audio_sid, muted=True)
            )
            assert res.HasField("track"), "response carries no track"
            eq("returned track sid", res.track.sid, audio_sid)
            eq("returned muted", res.track.muted, True)
            p = await room.get_participant(api.RoomParticipantIdentity(room=ROOM, identity=IDENTITY))
            muted = {t.sid: t.muted for t in p.tracks}
            eq("audio muted in a later get", muted.get(audio_sid), True)
            eq("video muted in a later get", muted.get(state.get("video_sid")), False)

        @c.check("update_participant")
        async def update_participant() -> None:
            p = await room.update_participant(
                api.UpdateParticipantRequest(room=ROOM, identity=IDENTITY, metadata='{"role":"host"}', name="Alice B")
            )
            eq("returned identity", p.identity, IDENTITY)
            eq("returned metadata", p.metadata, '{"role":"host"}')
            eq("returned name", p.name, "Alice B")
            p = await room.get_participant(api.RoomParticipantIdentity(room=ROOM, identity=IDENTITY))
            eq("metadata in a later get", p.metadata, '{"role":"host"}')
            eq("name in a later get", p.name, "Alice B")

        @c.check("update_subscriptions")
        async def update_subscriptions() -> None:
            video_sid = state.get("video_sid")
            assert video_sid, "no video track sid (list_participants failed)"
            await room.update_subscriptions(
                api.UpdateSubscriptionsRequest(room=ROOM, identity=IDENTITY, track_sids=[video_sid], subscribe=True)
            )

        @c.check("send_data")
        async def send_data() -> None:
            await room.send_data(
                api.SendDataRequest(
                    room=ROOM,
                    data=b"hello from python",
                    kind=api.DataPacket.Kind.RELIABLE,
                    destination_identities=[IDENTITY],
                    topic="conformance",
                )
            )

        @c.check("remove_participant")
        async def remove_participant() -> None:
            await room.remove_participant(api.RoomParticipantIdentity(room=ROOM, identity=IDENTITY))
            await expect_error(
                room.get_participant(api.RoomParticipantIdentity(room=ROOM, identity=IDENTITY)),
                "not_found",
                404,
                "participant does not exist",
            )

        @c.check("get_participant_unknown_not_found")
        async def get_unknown_participant() -> None:
            await expect_error(
                room.get_participant(api.RoomParticipantIdentity(room=ROOM, identity="nobody")),
                "not_found",
                404,
                "participant does not exist",
            )

        # ---- deletion and missing rooms ----------------------------------------------------
        @c.check("delete_room")
        async def delete_room() -> None:
            await room.delete_room(api.DeleteRoomRequest(room=ROOM))
            res = await room.list_rooms(api.ListRoomsRequest(names=[ROOM]))
            eq("rooms after delete", [r.name for r in res.rooms], [])

        @c.check("delete_room_again_not_found")
        async def delete_room_again() -> None:
            await expect_error(
                room.delete_room(api.DeleteRoomRequest(room=ROOM)), "not_found", 404, "requested room does not exist"
            )

        @c.check("update_room_metadata_missing_not_found")
        async def update_missing_room() -> None:
            await expect_error(
                room.update_room_metadata(api.UpdateRoomMetadataRequest(room="py-missing-room", metadata="x")),
                "not_found",
                404,
                "requested room does not exist",
            )

        # ---- auth --------------------------------------------------------------------------
        @c.check("wrong_secret_unauthenticated")
        async def wrong_secret() -> None:
            bad = api.LiveKitAPI(url, key, secret + "-wrong")
            await expect_unauthenticated(bad, lambda lk: lk.room.list_rooms(api.ListRoomsRequest()))

        @c.check("expired_token_unauthenticated")
        async def expired_token() -> None:
            expired = token(key, secret, api.VideoGrants(room_list=True), ttl=datetime.timedelta(minutes=-10))
            client = api.LiveKitAPI.with_token(expired, url)
            await expect_unauthenticated(client, lambda lk: lk.room.list_rooms(api.ListRoomsRequest()))

        @c.check("missing_grant_raw_unauthenticated")
        async def missing_grant_raw() -> None:
            # A join-only token: valid signature, no roomList grant.
            join_only = token(key, secret, api.VideoGrants(room_join=True, room="x"))
            async with raw.post(
                f"{http_base}/twirp/livekit.RoomService/ListRooms",
                data=b"",
                headers={"Authorization": f"Bearer {join_only}", "Content-Type": "application/protobuf"},
            ) as resp:
                text = await resp.text()
                eq(f"HTTP status (body {text[:200]!r})", resp.status, 401)
                eq("Content-Type", resp.headers.get("Content-Type"), "application/json")
                body = json.loads(text)
                eq("code", body.get("code"), "unauthenticated")
                eq("msg", body.get("msg"), "permissions denied")

        @c.check("missing_grant_sdk_unauthenticated")
        async def missing_grant_sdk() -> None:
            # Same, through the SDK: a roomList-only token may not create rooms.
            list_only = token(key, secret, api.VideoGrants(room_list=True))
            client = api.LiveKitAPI.with_token(list_only, url)
            await expect_unauthenticated(
                client, lambda lk: lk.room.create_room(api.CreateRoomRequest(name="py-not-allowed"))
            )

        await c.run_planned()
    finally:
        await raw.close()
        await lkapi.aclose()

    return c.summary()


if __name__ == "__main__":
    sys.exit(run(main))
