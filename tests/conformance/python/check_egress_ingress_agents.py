#!/usr/bin/env python3
"""Conformance checks: the official Python server SDK (`livekit-api`) against `lktop sandbox`'s
Egress, Ingress and AgentDispatchService.

Same environment and output as check_room_service.py (the harness both use): one line per check,
then `N passed, M failed`. Starts, lists and stops an egress, creates, lists and deletes an
ingress and a dispatch, and checks livekit-server's errors for a missing id and a missing grant.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from livekit import api

from harness import Checks, eq, expect_error, expect_unauthenticated, run, server_from_env, token

ROOM = os.environ.get("CONFORMANCE_SERVICES_ROOM", "py-services")


async def main(c: Checks) -> int:
    server = server_from_env()
    if server is None:
        return 2
    url, key, secret = server
    print(f"# livekit-api {api.__version__} (protobuf) egress/ingress/agents against {url}", flush=True)
    state: dict[str, Any] = {}
    lkapi = api.LiveKitAPI(url, key, secret)
    try:
        await lkapi.room.create_room(api.CreateRoomRequest(name=ROOM))

        # ---- egress -------------------------------------------------------------------------
        @c.check("egress_start_room_composite")
        async def start_egress() -> None:
            info = await lkapi.egress.start_room_composite_egress(
                api.RoomCompositeEgressRequest(
                    room_name=ROOM,
                    file_outputs=[api.EncodedFileOutput(filepath="rec/{room_name}.mp4")],
                    stream_outputs=[api.StreamOutput(urls=["rtmp://live.example.com/app/py-stream-key"])],
                )
            )
            assert info.egress_id.startswith("EG_"), info.egress_id
            eq("status", info.status, api.EgressStatus.EGRESS_STARTING)
            eq("room_name", info.room_name, ROOM)
            eq("file", info.file_results[0].filename, f"rec/{ROOM}.mp4")
            eq("redacted stream", info.stream_results[0].url, "rtmp://live.example.com/app/{py-...key}")
            state["egress_id"] = info.egress_id

        @c.check("egress_list_by_room_and_id")
        async def list_egress() -> None:
            by_room = await lkapi.egress.list_egress(api.ListEgressRequest(room_name=ROOM))
            eq("by room", [i.egress_id for i in by_room.items], [state["egress_id"]])
            by_id = await lkapi.egress.list_egress(api.ListEgressRequest(egress_id=state["egress_id"]))
            eq("by id", len(by_id.items), 1)

        @c.check("egress_stop")
        async def stop_egress() -> None:
            info = await lkapi.egress.stop_egress(api.StopEgressRequest(egress_id=state["egress_id"]))
            eq("status", info.status, api.EgressStatus.EGRESS_ENDING)

        @c.check("egress_stop_again_failed_precondition")
        async def stop_again() -> None:
            await expect_error(
                lkapi.egress.stop_egress(api.StopEgressRequest(egress_id=state["egress_id"])),
                "failed_precondition",
                412,
                "egress with status EGRESS_ENDING cannot be stopped",
            )

        @c.check("egress_stop_missing_not_found")
        async def stop_missing() -> None:
            await expect_error(
                lkapi.egress.stop_egress(api.StopEgressRequest(egress_id="EG_missing")),
                "not_found",
                404,
                "egress does not exist",
            )

        @c.check("egress_missing_grant_unauthenticated")
        async def egress_grant() -> None:
            no_record = token(key, secret, api.VideoGrants(room_admin=True, room=ROOM, room_list=True))
            client = api.LiveKitAPI.with_token(no_record, url)
            await expect_unauthenticated(client, lambda lk: lk.egress.list_egress(api.ListEgressRequest()))

        # ---- ingress ------------------------------------------------------------------------
        @c.check("ingress_create")
        async def create_ingress() -> None:
            info = await lkapi.ingress.create_ingress(
                api.CreateIngressRequest(
                    input_type=api.IngressInput.RTMP_INPUT,
                    name="py camera",
                    room_name=ROOM,
                    participant_identity="py-cam",
                )
            )
            assert info.ingress_id.startswith("IN_"), info.ingress_id
            assert info.url.startswith("rtmp://") and len(info.stream_key) == 12, info
            eq("state", info.state.status, api.IngressState.ENDPOINT_INACTIVE)
            state["ingress_id"] = info.ingress_id

        @c.check("ingress_list")
        async def list_ingress() -> None:
            items = (await lkapi.ingress.list_ingress(api.ListIngressRequest(room_name=ROOM))).items
            eq("ids", [i.ingress_id for i in items], [state["ingress_id"]])

        @c.check("ingress_delete")
        async def delete_ingress() -> None:
            info = await lkapi.ingress.delete_ingress(api.DeleteIngressRequest(ingress_id=state["ingress_id"]))
            eq("id", info.ingress_id, state["ingress_id"])

        @c.check("ingress_delete_missing_not_found")
        async def delete_missing_ingress() -> None:
            await expect_error(
                lkapi.ingress.delete_ingress(api.DeleteIngressRequest(ingress_id=state["ingress_id"])),
                "not_found",
                404,
                "ingress does not exist",
            )

        @c.check("ingress_missing_grant_unauthenticated")
        async def ingress_grant() -> None:
            no_ingress = token(key, secret, api.VideoGrants(room_record=True))
            client = api.LiveKitAPI.with_token(no_ingress, url)
            await expect_unauthenticated(client, lambda lk: lk.ingress.list_ingress(api.ListIngressRequest()))

        # ---- agent dispatch -----------------------------------------------------------------
        @c.check("dispatch_create")
        async def create_dispatch() -> None:
            d = await lkapi.agent_dispatch.create_dispatch(
                api.CreateAgentDispatchRequest(agent_name="py-agent", room=ROOM, metadata="{}")
            )
            assert d.id.startswith("AD_"), d.id
            state["dispatch_id"] = d.id

        @c.check("dispatch_list")
        async def list_dispatch() -> None:
            ds = await lkapi.agent_dispatch.list_dispatch(room_name=ROOM)
            eq("ids", [d.id for d in ds], [state["dispatch_id"]])

        @c.check("dispatch_delete")
        async def delete_dispatch() -> None:
            d = await lkapi.agent_dispatch.delete_dispatch(state["dispatch_id"], ROOM)
            eq("id", d.id, state["dispatch_id"])

        @c.check("dispatch_delete_missing_not_found")
        async def delete_missing_dispatch() -> None:
            await expect_error(
                lkapi.agent_dispatch.delete_dispatch(state["dispatch_id"], ROOM),
                "not_found",
                404,
                "dispatch ID not found",
            )

        @c.check("dispatch_missing_grant_unauthenticated")
        async def dispatch_grant() -> None:
            other_room = token(key, secret, api.VideoGrants(room_admin=True, room="elsewhere"))
            client = api.LiveKitAPI.with_token(other_room, url)
            await expect_unauthenticated(client, lambda lk: lk.agent_dispatch.list_dispatch(room_name=ROOM))

        await c.run_planned()
    finally:
        try:
            await lkapi.room.delete_room(api.DeleteRoomRequest(room=ROOM))
        except Exception:  # noqa: BLE001 - a failed check may have left nothing to delete
            pass
        await lkapi.aclose()

    return c.summary()


if __name__ == "__main__":
    sys.exit(run(main))
