"""The check harness of the Python conformance scripts: running each check with a time bound,
one line per check (`ok   NAME` or `FAIL NAME: REASON`), the closing `N passed, M failed` line
run.sh adds up, the comparisons and expected errors the checks use, tokens, and the server's
address and credentials from the environment.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import sys
import traceback
from typing import Any, Awaitable, Callable, Optional

from livekit import api

TOTAL_TIMEOUT_S = 60.0  # the whole script
CHECK_TIMEOUT_S = 15.0  # one check (the SDK's own request timeout is 10 s)


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0
        self.planned: list[tuple[str, Callable[[], Awaitable[Any]]]] = []

    def check(self, name: str) -> Callable[[Callable[[], Awaitable[Any]]], Callable[[], Awaitable[Any]]]:
        """Decorator: plans the function as the check `name`; `run_planned` runs the checks in the
        order they were declared, as later checks build on the state earlier ones leave."""

        def plan(fn: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
            self.planned.append((name, fn))
            return fn

        return plan

    async def run_planned(self) -> None:
        for name, fn in self.planned:
            await self.run(name, fn)
        self.planned.clear()

    async def run(self, name: str, fn: Callable[[], Awaitable[Any]]) -> bool:
        try:
            await asyncio.wait_for(fn(), CHECK_TIMEOUT_S)
        except AssertionError as e:
            self._fail(name, str(e) or "assertion failed")
            return False
        except asyncio.TimeoutError:
            self._fail(name, f"timed out after {CHECK_TIMEOUT_S:.0f} s")
            return False
        except api.TwirpError as e:
            self._fail(name, f"unexpected error: {e}")
            return False
        except Exception as e:  # noqa: BLE001 - any other error is a failed check, not a crash
            self._fail(name, f"{type(e).__name__}: {e}")
            if os.environ.get("CONFORMANCE_DEBUG"):
                traceback.print_exc()
            return False
        print(f"ok   {name}", flush=True)
        self.passed += 1
        return True

    def summary(self) -> int:
        """Prints the closing `N passed, M failed` line (run.sh adds these up); the exit code."""
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0

    def _fail(self, name: str, reason: str) -> None:
        reason = " ".join(reason.split())  # one line per check
        print(f"FAIL {name}: {reason}", flush=True)
        self.failed += 1


def eq(what: str, got: Any, want: Any) -> None:
    assert got == want, f"{what}: got {got!r}, want {want!r}"


async def expect_error(
    coro: Awaitable[Any], code: str, status: int, message: Optional[str] = None
) -> api.TwirpError:
    """Awaits a call that must fail with the given Twirp code and HTTP status (and `message`,
    when given)."""
    try:
        res = await coro
    except api.TwirpError as e:
        assert e.code == code and e.status == status, (
            f"got error code={e.code!r} status={e.status} msg={e.message!r}, "
            f"want code={code!r} status={status}"
        )
        if message is not None:
            eq("message", e.message, message)
        return e
    raise AssertionError(f"call succeeded ({type(res).__name__} {res!s:.200}), want {code} ({status})")


async def expect_unauthenticated(
    client: api.LiveKitAPI, call: Callable[[api.LiveKitAPI], Awaitable[Any]]
) -> None:
    """`call` on `client` must fail as unauthenticated (401); the client is closed either way."""
    try:
        await expect_error(call(client), "unauthenticated", 401)
    finally:
        await client.aclose()


def token(key: str, secret: str, grants: api.VideoGrants, ttl: Optional[datetime.timedelta] = None) -> str:
    at = api.AccessToken(key, secret).with_identity("conformance-py").with_grants(grants)
    if ttl is not None:
        at = at.with_ttl(ttl)
    return at.to_jwt()


def server_from_env() -> Optional[tuple[str, str, str]]:
    """LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET, as `lktop sandbox` prints them; None
    (after saying so) when one is missing."""
    url = os.environ.get("LIVEKIT_URL", "")
    key = os.environ.get("LIVEKIT_API_KEY", "")
    secret = os.environ.get("LIVEKIT_API_SECRET", "")
    if not (url and key and secret):
        print("error: LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET must be set", file=sys.stderr)
        return None
    return url, key, secret


def run(checks_of: Callable[[Checks], Awaitable[int]]) -> int:
    """Runs a script's checks, `checks_of`, within TOTAL_TIMEOUT_S."""
    c = Checks()

    async def bounded() -> int:
        return await asyncio.wait_for(checks_of(c), TOTAL_TIMEOUT_S)

    try:
        return asyncio.run(bounded())
    except asyncio.TimeoutError:
        c._fail("total_time", f"the whole run took more than {TOTAL_TIMEOUT_S:.0f} s")
        return c.summary()
