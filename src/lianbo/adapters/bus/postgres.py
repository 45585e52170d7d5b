"""Events from other processes over PostgreSQL ``LISTEN/NOTIFY``.

Every process keeps one dedicated asyncpg connection listening on the
``lianbo_events`` channel; the unit of work sends each committed event's
envelope with ``pg_notify`` inside its transaction (``adapters/db/uow.py``),
so PostgreSQL delivers it to every listener if and only if it committed,
in commit order.

A notification sent while a listener is away is lost for it. So on every
connect (the first and each reconnect) the listener calls ``revalidate``
*after* ``LISTEN`` is in place: the process drops its caches and reads the
store again, and nothing missed outlives the reconnect. A lost connection
is logged once, ``connected`` turns false (``/healthz``), and the listener
retries with a capped backoff until it is back (logged once again).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # no stubs; one connect() used here
import structlog
from sqlalchemy.engine import make_url

from lianbo.adapters.db.uow import CHANNEL
from lianbo.aio import cancel_all

log = structlog.get_logger()

Received = Callable[[str], Awaitable[None]]
Revalidate = Callable[[], Awaitable[None]]

PROBE_S = 5.0  # how often an idle connection is checked (a dead peer sends no FIN)
RETRY_MAX_S = 5.0


def asyncpg_dsn(database_url: str) -> str:
    """The SQLAlchemy URL (``postgresql+asyncpg://``) as a plain libpq DSN."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


class PostgresListener:
    """Listens while started; hands each payload to ``received`` in order."""

    def __init__(
        self,
        database_url: str,
        received: Received,
        revalidate: Revalidate,
        *,
        probe_s: float = PROBE_S,
        retry_max_s: float = RETRY_MAX_S,
    ) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._received = received
        self._revalidate = revalidate
        self._probe_s = probe_s
        self._retry_max_s = retry_max_s
        self._connected = False
        self._logged_down = False
        self._task: asyncio.Task[None] | None = None
        self._conn: Any = None  # asyncpg.Connection while connected
        self.connects = 0  # how many times LISTEN was (re)established
        self.failures = 0  # connections that failed or were lost

    @property
    def connected(self) -> bool:
        return self._connected

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="bus-listener")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await cancel_all([task])
        self._connected = False  # stopped: it hears nothing (a start revalidates)

    async def interrupt(self) -> None:
        """Close the connection as a network fault would (tests, drills):
        the listener notices, reconnects and revalidates."""
        if self._conn is not None:
            self._conn.terminate()

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                await self._listen()
                delay = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any fault: mark down, back off, reconnect
                self._down(error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_max_s)

    async def _listen(self) -> None:
        """One connection's life: LISTEN, revalidate, deliver until it ends."""
        inbox: asyncio.Queue[str] = asyncio.Queue()
        closed = asyncio.Event()
        conn = await asyncpg.connect(self._dsn, timeout=10)
        self._conn = conn
        try:
            conn.add_termination_listener(lambda _c: closed.set())
            await conn.add_listener(
                CHANNEL, lambda _c, _pid, _ch, payload: inbox.put_nowait(payload)
            )
            self.connects += 1
            await self._revalidate()  # after LISTEN: anything later is heard
            self._up()
            while not closed.is_set():
                try:
                    async with asyncio.timeout(self._probe_s):
                        payload = await inbox.get()
                except TimeoutError:
                    await conn.execute("SELECT 1", timeout=self._probe_s)  # still there?
                    continue
                await self._received(payload)
            raise ConnectionError("listener connection closed")
        finally:
            self._conn = None
            if not conn.is_closed():
                conn.terminate()

    def _up(self) -> None:
        if not self._connected:
            self._connected = True
            self._logged_down = False
            log.info("event bus connected", connects=self.connects)

    def _down(self, error: BaseException) -> None:
        """Logged once per loss (and once if the first connect fails), not per retry."""
        self._connected = False
        self.failures += 1
        if not self._logged_down:
            self._logged_down = True
            log.warning("event bus lost", reason=type(error).__name__)
