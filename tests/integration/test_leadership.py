"""Leadership on a real PostgreSQL (ADR 0011): two "processes" (containers
with connections of their own) on one database; exactly one leads, and the
other takes over when the leader's session ends or the leader stops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from lianbo.adapters.db.leadership import LOCK_KEY
from lianbo.api.app import create_app
from lianbo.bootstrap import Container, bootstrap
from lianbo.config import Settings
from lianbo.services import duties
from tests.conftest import _fresh_settings
from tests.support.waiting import until

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

RETRY_S = 0.05  # how often the follower tries: only how soon the test ends


@pytest.fixture
async def settings(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Settings:
    template = request.getfixturevalue("postgres_template")
    found = await _fresh_settings("postgres", tmp_path, sqlite_template, template)
    return found.model_copy(update={"leader_retry_seconds": RETRY_S})


class Process:
    """One server process's part in this: its container and its duty runner."""

    def __init__(self, name: str, settings: Settings, running: set[str]) -> None:
        self.name = name
        self.container: Container = bootstrap(settings)
        self.running = running
        self.task = asyncio.create_task(duties.run(self.container.leader, {"sweeper": self.duty}))

    async def duty(self) -> None:
        self.running.add(self.name)
        try:
            await asyncio.Event().wait()
        finally:
            self.running.discard(self.name)

    @property
    def leads(self) -> bool:
        return self.container.leader.is_leader

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.container.close()


@pytest.fixture
async def two(settings: Settings) -> AsyncIterator[tuple[Process, Process, set[str]]]:
    running: set[str] = set()
    first, second = Process("a", settings, running), Process("b", settings, running)
    yield first, second, running
    for process in (first, second):
        await process.stop()


async def admin(settings: Settings) -> asyncpg.Connection:
    dsn = settings.effective_database_url.replace("postgresql+asyncpg", "postgresql")
    return await asyncpg.connect(dsn)


async def holders(settings: Settings) -> list[int]:
    """Backends holding the leadership lock (a bigint key: high and low halves)."""
    connection = await admin(settings)
    try:
        rows = await connection.fetch(
            # Advisory locks are per database; other tests' databases on the
            # same server have leaders of their own.
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = $1 AND objid = $2 AND objsubid = 1"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            LOCK_KEY >> 32,
            LOCK_KEY & 0xFFFFFFFF,
        )
    finally:
        await connection.close()
    return [row["pid"] for row in rows]


async def leader_of(two: tuple[Process, Process, set[str]]) -> tuple[Process, Process]:
    first, second, running = two
    await until(lambda: first.leads or second.leads, "a leader")
    leader, follower = (first, second) if first.leads else (second, first)
    await until(lambda: running == {leader.name}, "the leader's duties")
    return leader, follower


async def test_exactly_one_process_leads_and_runs_the_duties(
    two: tuple[Process, Process, set[str]], settings: Settings
) -> None:
    leader, follower = await leader_of(two)
    assert leader.leads and not follower.leads
    assert len(await holders(settings)) == 1


async def test_the_other_takes_over_when_the_leaders_session_ends(
    two: tuple[Process, Process, set[str]], settings: Settings
) -> None:
    leader, follower = await leader_of(two)
    [pid] = await holders(settings)
    connection = await admin(settings)
    try:  # what PostgreSQL does when the leader's host dies: its session ends
        assert await connection.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await connection.close()
    await until(lambda: follower.leads and not leader.leads, "the takeover")
    await until(lambda: two[2] == {follower.name}, "the duties moved")
    [new_pid] = await holders(settings)
    assert new_pid != pid


async def test_the_other_takes_over_when_the_leader_stops(
    two: tuple[Process, Process, set[str]],
) -> None:
    leader, follower = await leader_of(two)
    await leader.stop()
    assert not leader.leads
    await until(lambda: follower.leads, "the takeover")
    await until(lambda: two[2] == {follower.name}, "the duties moved")


async def test_two_servers_sweep_on_the_leader_only_and_hand_over_when_it_stops(
    settings: Settings,
) -> None:
    first, second = bootstrap(settings), bootstrap(settings)
    running: dict[int, contextlib.AbstractAsyncContextManager[None]] = {}
    try:
        for container in (first, second):
            app = create_app(container=container)
            running[id(container)] = app.router.lifespan_context(app)
            await running[id(container)].__aenter__()
        await until(lambda: first.leader.is_leader or second.leader.is_leader, "a leader")
        leader, follower = (first, second) if first.leader.is_leader else (second, first)
        await until(lambda: leader.monitor.led_at is not None, "the leader's sweeper")
        assert follower.monitor.led_at is None and not follower.leader.is_leader
        await running.pop(id(leader)).__aexit__(None, None, None)  # the leader stops
        await until(lambda: follower.monitor.led_at is not None, "the sweeper taken over")
        assert follower.leader.is_leader
    finally:
        for lifespan in running.values():
            await lifespan.__aexit__(None, None, None)
