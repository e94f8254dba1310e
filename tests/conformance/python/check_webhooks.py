#!/usr/bin/env python3
"""Conformance checks: the official Python server SDK's `WebhookReceiver` accepts the webhooks
`lktop sandbox --webhook-url` sends, as it accepts livekit-server's.

Reads LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET and WEBHOOK_PORT from the environment; the
sandbox must send its webhooks to http://127.0.0.1:WEBHOOK_PORT/. Listens there, makes changes
with the SDK and the sandbox's admin endpoint in a room of its own, and checks each webhook they
cause: verified by `WebhookReceiver` (JWT signed with the key and secret, `sha256` claim of the
body), the headers livekit-server sends, and the event's fields. Prints one line per check
(`ok   NAME` or `FAIL NAME: REASON`), then `N passed, M failed`; exits 1 if any check failed, 2 on
a usage error.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import aiohttp
from aiohttp import web
from livekit import api
from livekit.protocol import models

from harness import Checks, eq, run

ROOM = "py-hooks"
IDENTITY = "hook-alice"


class Delivery:
    """One POST as received: the raw body and the headers that matter."""

    def __init__(self, body: str, authorization: str, content_type: str) -> None:
        self.body = body
        self.authorization = authorization
        self.content_type = content_type


class Inbox:
    """Every webhook received, verified with the SDK, kept per room in arrival order."""

    def __init__(self, receiver: api.WebhookReceiver) -> None:
        self.receiver = receiver
        self.deliveries: list[tuple[Delivery, Any]] = []
        self.arrived = asyncio.Condition()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        delivery = Delivery(
            body,
            request.headers.get("Authorization", ""),
            request.headers.get("Content-Type", ""),
        )
        try:
            event = self.receiver.receive(body, delivery.authorization)
        except Exception as e:  # noqa: BLE001 - a refused webhook is recorded as such
            event = e
        async with self.arrived:
            self.deliveries.append((delivery, event))
            self.arrived.notify_all()
        return web.Response(status=200)

    async def next_event(self, kind: str, after: int = 0) -> tuple[int, Delivery, Any]:
        """The first webhook of `kind` about ROOM at or after position `after`."""
        async with self.arrived:
            while True:
                for index in range(after, len(self.deliveries)):
                    delivery, event = self.deliveries[index]
                    if isinstance(event, Exception):
                        raise AssertionError(f"WebhookReceiver refused a webhook: {event}")
                    if event.event == kind and event.room.name == ROOM:
                        return index, delivery, event
                await self.arrived.wait()


async def main(c: Checks) -> int:
    url = os.environ.get("LIVEKIT_URL", "")
    key = os.environ.get("LIVEKIT_API_KEY", "")
    secret = os.environ.get("LIVEKIT_API_SECRET", "")
    port = os.environ.get("WEBHOOK_PORT", "")
    if not (url and key and secret and port):
        print(
            "error: LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET and WEBHOOK_PORT must be set",
            file=sys.stderr,
        )
        return 2
    http_base = url.replace("ws://", "http://", 1).replace("wss://", "https://", 1).rstrip("/")
    print(f"# livekit-api {api.__version__} WebhookReceiver, webhooks from {url} to :{port}", flush=True)

    inbox = Inbox(api.WebhookReceiver(api.TokenVerifier(key, secret)))
    app = web.Application()
    app.router.add_post("/", inbox.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(port)).start()

    lkapi = api.LiveKitAPI(url, key, secret)
    raw = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
    seen: dict[str, Any] = {}
    try:

        async def room_started() -> None:
            created = await lkapi.room.create_room(api.CreateRoomRequest(name=ROOM))
            index, delivery, event = await inbox.next_event("room_started")
            eq("content type", delivery.content_type, "application/webhook+json")
            assert not delivery.authorization.lower().startswith("bearer"), "the token is bare, as livekit-server sends it"
            eq("room sid", event.room.sid, created.sid)
            assert event.id.startswith("EV_"), f"id: {event.id!r}"
            assert event.created_at > 0, f"created_at: {event.created_at}"
            seen["after"] = index
            seen["first"] = delivery

        async def participant_joined_and_track_published() -> None:
            hook_token = (
                api.AccessToken(key, secret)
                .with_identity("conformance-py")
                .with_grants(api.VideoGrants(room_admin=True, room=ROOM))
                .to_jwt()
            )
            body = {"identity": IDENTITY, "tracks": [{"type": "audio", "source": "microphone"}]}
            async with raw.post(
                f"{http_base}/sandbox/rooms/{ROOM}/participants",
                json=body,
                headers={"Authorization": f"Bearer {hook_token}"},
            ) as resp:
                eq("join status", resp.status, 200)
            index, _, joined = await inbox.next_event("participant_joined", seen["after"])
            eq("joined identity", joined.participant.identity, IDENTITY)
            _, _, published = await inbox.next_event("track_published", index)
            eq("published by", published.participant.identity, IDENTITY)
            eq("track type", published.track.type, models.TrackType.AUDIO)
            assert published.track.sid.startswith("TR_"), f"track sid: {published.track.sid!r}"
            seen["after"] = index

        async def participant_left_with_reason() -> None:
            await lkapi.room.remove_participant(api.RoomParticipantIdentity(room=ROOM, identity=IDENTITY))
            _, _, unpublished = await inbox.next_event("track_unpublished", seen["after"])
            eq("unpublished by", unpublished.participant.identity, IDENTITY)
            index, _, left = await inbox.next_event("participant_left", seen["after"])
            eq("left identity", left.participant.identity, IDENTITY)
            eq("disconnect reason", left.participant.disconnect_reason, models.DisconnectReason.PARTICIPANT_REMOVED)
            seen["after"] = index

        async def room_finished() -> None:
            await lkapi.room.delete_room(api.DeleteRoomRequest(room=ROOM))
            _, _, finished = await inbox.next_event("room_finished", seen["after"])
            eq("finished room", finished.room.name, ROOM)

        async def wrong_secret_refused() -> None:
            first = seen["first"]
            wrong = api.WebhookReceiver(api.TokenVerifier(key, "not-the-secret-" + "x" * 24))
            try:
                wrong.receive(first.body, first.authorization)
            except Exception:  # noqa: BLE001 - any refusal is the expected outcome
                return
            raise AssertionError("a receiver with another secret accepted the webhook")

        async def changed_body_refused() -> None:
            first = seen["first"]
            changed = first.body.replace(ROOM, ROOM + "-x")
            assert changed != first.body
            try:
                inbox.receiver.receive(changed, first.authorization)
            except Exception:  # noqa: BLE001 - any refusal is the expected outcome
                return
            raise AssertionError("a body changed after signing was accepted")

        for name, check in [
            ("webhook_room_started", room_started),
            ("webhook_participant_joined_and_track_published", participant_joined_and_track_published),
            ("webhook_participant_left_with_reason", participant_left_with_reason),
            ("webhook_room_finished", room_finished),
            ("webhook_wrong_secret_refused", wrong_secret_refused),
            ("webhook_changed_body_refused", changed_body_refused),
        ]:
            if name not in ("webhook_room_started",) and "first" not in seen:
                c._fail(name, "skipped: no room_started webhook arrived")
                continue
            await c.run(name, check)
    finally:
        await raw.close()
        await lkapi.aclose()
        await runner.cleanup()
    return c.summary()


if __name__ == "__main__":
    sys.exit(run(main))
