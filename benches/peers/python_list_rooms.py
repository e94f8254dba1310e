#!/usr/bin/env python3
"""ListRooms throughput of the official Python server SDK (`livekit-api`), for benches/throughput.rs.

Usage: python_list_rooms.py URL API_KEY API_SECRET CONCURRENCY SECONDS [WARMUP_SECONDS]

One `LiveKitAPI` (one aiohttp session, so keep-alive connections are shared the way an application
shares them) and CONCURRENCY coroutines, gathered, each calling `room.list_rooms` in a loop. After
WARMUP_SECONDS (default 1) it counts the calls that complete during SECONDS and prints one JSON line:
{"calls": N, "seconds": S, "errors": E, "p50_ms": M}. Any failed call counts as an error and ends
its loop; the bench refuses a cell with errors. The whole run is bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time

from livekit import api

# The SDK's own request timeout is 10 s; a stuck loop past this is a failure, not a hang.
STOP_GRACE_S = 15.0


async def run(url: str, key: str, secret: str, concurrency: int, seconds: float, warmup: float) -> dict:
    lkapi = api.LiveKitAPI(url, key, secret)
    request = api.ListRoomsRequest()
    stop = asyncio.Event()
    window = {"open": False}
    latencies: list[float] = []
    errors = 0

    async def loop() -> None:
        nonlocal errors
        while not stop.is_set():
            started = time.perf_counter()
            try:
                await lkapi.room.list_rooms(request)
            except Exception:  # noqa: BLE001 - counted; the bench reports it
                errors += 1
                return
            if window["open"]:
                latencies.append(time.perf_counter() - started)

    try:
        tasks = [asyncio.create_task(loop()) for _ in range(concurrency)]
        await asyncio.sleep(warmup)
        window["open"] = True
        begun = time.perf_counter()
        await asyncio.sleep(seconds)
        window["open"] = False
        calls = len(latencies)
        elapsed = time.perf_counter() - begun
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), STOP_GRACE_S)
    finally:
        await lkapi.aclose()
    p50 = statistics.median(latencies[:calls]) * 1000 if calls else None
    return {"calls": calls, "seconds": elapsed, "errors": errors, "p50_ms": p50}


def main() -> int:
    if len(sys.argv) not in (6, 7):
        print(__doc__, file=sys.stderr)
        return 2
    url, key, secret = sys.argv[1:4]
    concurrency, seconds = int(sys.argv[4]), float(sys.argv[5])
    warmup = float(sys.argv[6]) if len(sys.argv) == 7 else 1.0
    result = asyncio.run(run(url, key, secret, concurrency, seconds, warmup))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
