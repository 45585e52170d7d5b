"""Singleton duties run while this process leads (services/duties.py), over
a fake leadership that the test elects and deposes by hand."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from lianbo.services import duties
from tests.support.waiting import until


class FakeLeadership:
    """The ``Leadership`` port, decided by the test."""

    def __init__(self) -> None:
        self.is_leader = False
        self.campaigning = False
        self._changed = asyncio.Event()

    def elect(self, leading: bool) -> None:
        self.is_leader = leading
        self._changed.set()
        self._changed = asyncio.Event()

    async def campaign(self) -> None:
        self.campaigning = True
        try:
            await asyncio.Event().wait()
        finally:
            self.campaigning = False

    async def until(self, leading: bool) -> None:
        while self.is_leader != leading:
            await self._changed.wait()


class Journal:
    """Duties that note when they start and stop."""

    def __init__(self) -> None:
        self.running: set[str] = set()
        self.starts: list[str] = []

    def duty(self, name: str) -> duties.Duty:
        async def work() -> None:
            self.running.add(name)
            self.starts.append(name)
            try:
                await asyncio.Event().wait()
            finally:
                self.running.discard(name)

        return work


async def test_duties_run_only_while_leading_and_start_afresh_on_each_election() -> None:
    leader, journal = FakeLeadership(), Journal()
    runner = asyncio.create_task(
        duties.run(leader, {"sweeper": journal.duty("sweeper"), "expiry": journal.duty("expiry")})
    )
    try:
        await until(lambda: leader.campaigning, "the campaign")
        assert journal.running == set()  # a follower runs none of them
        leader.elect(True)
        await until(lambda: journal.running == {"sweeper", "expiry"}, "the duties")
        leader.elect(False)  # another process won, or the lock's session was lost
        await until(lambda: journal.running == set(), "the duties stopped")
        leader.elect(True)
        await until(lambda: journal.running == {"sweeper", "expiry"}, "the duties again")
        assert sorted(journal.starts) == ["expiry", "expiry", "sweeper", "sweeper"]
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
    assert journal.running == set() and not leader.campaigning  # shutdown stops all


async def test_a_failing_duty_leaves_the_others_running() -> None:
    leader, journal = FakeLeadership(), Journal()

    async def broken() -> None:
        raise RuntimeError("boom")

    runner = asyncio.create_task(
        duties.run(leader, {"broken": broken, "sweeper": journal.duty("sweeper")})
    )
    try:
        with structlog.testing.capture_logs() as logs:
            leader.elect(True)
            await until(lambda: any(e.get("duty") == "broken" for e in logs), "the failure")
        assert journal.running == {"sweeper"}
        assert [(e["event"], e["duty"]) for e in logs] == [("singleton duty failed", "broken")]
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner


async def test_every_keeps_going_after_a_failed_round() -> None:
    rounds: list[int] = []

    async def work() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 2:
            raise RuntimeError("the store went away")

    with structlog.testing.capture_logs() as logs:
        loop = asyncio.create_task(duties.every(0, work, "test sweep"))
        await until(lambda: len(rounds) >= 4, "rounds after the failed one")
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
    assert [entry["event"] for entry in logs if entry["log_level"] == "error"] == [
        "test sweep failed"
    ]
