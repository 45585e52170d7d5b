"""The PostgreSQL listener when there is no PostgreSQL to listen to."""

from __future__ import annotations

import asyncio

from structlog.testing import capture_logs

from lianbo.adapters.bus.postgres import PostgresListener, asyncpg_dsn
from tests.support.services import free_port
from tests.support.waiting import HANG_GUARD_S, until


async def _nothing(*_: object) -> None: ...


def test_the_dsn_drops_the_driver_and_keeps_the_password() -> None:
    url = "postgresql+asyncpg://lianbo:s3cret@db.example:5433/lianbo"
    assert asyncpg_dsn(url) == "postgresql://lianbo:s3cret@db.example:5433/lianbo"


async def test_an_unreachable_store_is_logged_once_and_retried() -> None:
    url = f"postgresql+asyncpg://lianbo@127.0.0.1:{free_port()}/lianbo"
    listener = PostgresListener(url, _nothing, _nothing, retry_max_s=0.05)
    with capture_logs() as logs:
        await listener.start()
        try:
            await until(lambda: listener.failures >= 3, "three failed attempts")
            assert not listener.connected
        finally:
            await listener.stop()
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["event bus lost"]


async def test_stop_ends_a_listener_that_missed_the_first_cancel() -> None:
    """Python 3.11's wait_for (under asyncpg.connect) can drop a cancel that
    arrives as the connection completes; the listener then ran on and a stop
    waited for ever (a test hung 1 run in 8). A stop cancels until it ends."""
    listener = PostgresListener("postgresql+asyncpg://x@127.0.0.1:1/x", _nothing, _nothing)
    missed: list[bool] = []

    async def connect_dropping_a_cancel() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            missed.append(True)  # as wait_for does when the connect won the race
        await asyncio.Event().wait()  # listening, as if never cancelled

    running = asyncio.create_task(connect_dropping_a_cancel())
    listener._task = running
    await asyncio.sleep(0)
    guard = asyncio.timeout(HANG_GUARD_S)
    async with guard:
        await listener.stop()
    assert not guard.expired(), "the stop waited for a listener that never ended"
    assert missed == [True]
    assert running.done()  # not left listening
    assert not listener.connected
