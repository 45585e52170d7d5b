"""The PostgreSQL leadership adapter over scripted sessions: it leads when
the advisory lock is granted, stops leading when its session fails, and logs
each transition once. (The real lock: tests/integration/test_leadership.py.)"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog

from lianbo.adapters.db.leadership import LOCK_KEY, PING, TRY, PostgresLeadership, SingleProcess
from tests.support.waiting import Naps

GRANTED, REFUSED, DROPPED = True, False, ConnectionResetError("gone")


class ScriptedSession:
    """Answers queries from a script; an exception in it is raised."""

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.queries: list[tuple[str, tuple[Any, ...]]] = []
        self.terminated = False

    async def fetchval(self, query: str, *args: Any) -> Any:
        self.queries.append((query, args))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def terminate(self) -> None:
        self.terminated = True


class Sessions:
    """``connect``: hands out the scripted sessions in turn, or raises."""

    def __init__(self, *sessions: ScriptedSession | Exception) -> None:
        self.sessions = list(sessions)

    async def __call__(self) -> ScriptedSession:
        session = self.sessions.pop(0)
        if isinstance(session, Exception):
            raise session
        return session


async def test_leads_while_the_lock_is_held_and_lets_go_when_the_session_drops() -> None:
    follower = ScriptedSession(REFUSED, GRANTED, 1, DROPPED)
    naps = Naps()
    seat = PostgresLeadership(Sessions(OSError("refused"), OSError("refused"), follower), 5.0, naps)
    with structlog.testing.capture_logs() as logs:
        campaign = asyncio.create_task(seat.campaign())
        try:
            for _ in range(3):  # two failed connects, then the lock refused
                _, woken = await naps.next()
                assert not seat.is_leader
                woken.set_result(None)
            _, woken = await naps.next()
            assert seat.is_leader  # granted
            woken.set_result(None)
            _, woken = await naps.next()  # pinged, still leading
            assert seat.is_leader
            woken.set_result(None)
            await naps.next()  # the ping failed: retrying from a new connection
            assert not seat.is_leader
            assert follower.terminated  # the session ended: the lock is released
        finally:
            campaign.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await campaign
    assert follower.queries == [(TRY, (LOCK_KEY,)), (TRY, (LOCK_KEY,)), (PING, ()), (PING, ())]
    assert [entry["event"] for entry in logs] == [
        "leadership: database unreachable",  # once for two failed connects
        "leadership: database reachable again",
        "leadership gained: this process runs the singleton duties",
        "leadership: database unreachable",  # the ping failed ...
        "leadership lost: singleton duties stopped here",  # ... so it stops leading
    ]


async def test_a_stopped_leader_lets_go() -> None:
    session = ScriptedSession(GRANTED)
    naps = Naps()
    seat = PostgresLeadership(Sessions(session), 5.0, naps)
    campaign = asyncio.create_task(seat.campaign())
    await naps.next()
    assert seat.is_leader
    campaign.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await campaign
    assert not seat.is_leader and session.terminated


async def test_a_single_process_store_always_leads() -> None:
    seat = SingleProcess()
    assert seat.is_leader
    async with asyncio.timeout(5):
        await seat.until(True)
