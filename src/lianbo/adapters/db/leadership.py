"""Who runs the singleton duties (ADR 0011): the ``Leadership`` adapters.

On PostgreSQL the leader is the process whose own connection (outside the
pool: a pooled connection is handed back and reused) holds the session
advisory lock ``LOCK_KEY``. The others try again every ``retry_s``. The
lock lives as long as that database session: when the leader dies its
session ends, PostgreSQL releases the lock and the next try elsewhere wins.
The leader pings its connection every ``retry_s``; a failed ping means the
session may be gone (and the lock with it), so it stops leading at once.

On SQLite the one process there is always leads (a second process on the
same data dir is refused at start).

Transitions are logged once each (gained, lost; database unreachable,
reachable again), never on every try.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import structlog
from sqlalchemy.engine import make_url

log = structlog.get_logger()

# "lianbo" in ASCII, then 1: one lock per database, whatever else uses advisory locks.
LOCK_KEY = 0x6C69616E626F_0001
TRY = "SELECT pg_try_advisory_lock($1)"
PING = "SELECT 1"
CONNECT_TIMEOUT_S = 10.0
# The server notices a leader's host gone silent (no FIN/RST) within about
# idle + interval × count seconds, and ends its session (releasing the lock).
KEEPALIVES = {
    "tcp_keepalives_idle": "10",
    "tcp_keepalives_interval": "5",
    "tcp_keepalives_count": "3",
}

Sleep = Callable[[float], Awaitable[None]]


class Session(Protocol):
    """The part of an ``asyncpg.Connection`` leadership uses."""

    async def fetchval(self, query: str, *args: Any) -> Any: ...

    def terminate(self) -> None: ...


Connect = Callable[[], Awaitable[Session]]


class Seat:
    """Leading or not, with waiting and once-per-transition logs."""

    def __init__(self, leading: bool = False) -> None:
        self._leading = leading
        self._elected = asyncio.Event()
        self._deposed = asyncio.Event()
        (self._elected if leading else self._deposed).set()

    @property
    def is_leader(self) -> bool:
        return self._leading

    async def until(self, leading: bool) -> None:
        await (self._elected if leading else self._deposed).wait()

    def _set(self, leading: bool) -> None:
        if leading == self._leading:
            return
        self._leading = leading
        if leading:
            self._deposed.clear()
            self._elected.set()
            log.info("leadership gained: this process runs the singleton duties")
        else:
            self._elected.clear()
            self._deposed.set()
            log.warning("leadership lost: singleton duties stopped here")


class SingleProcess(Seat):
    """SQLite: the one process always leads."""

    def __init__(self) -> None:
        super().__init__(leading=True)

    async def campaign(self) -> None:
        await asyncio.Event().wait()  # nothing to hold: wait to be cancelled


class PostgresLeadership(Seat):
    """Leadership by a PostgreSQL session advisory lock (module docstring)."""

    def __init__(self, connect: Connect, retry_s: float, sleep: Sleep = asyncio.sleep) -> None:
        super().__init__()
        self._connect = connect
        self.retry_s = retry_s
        self._sleep = sleep
        self._reachable = True

    async def campaign(self) -> None:
        try:
            while True:
                await self._round()
                await self._sleep(self.retry_s)
        finally:
            self._set(False)

    async def _round(self) -> None:
        """One connection's life: try for the lock until it is held, then
        hold it; returns when the connection fails."""
        connecting = asyncio.ensure_future(self._connect())
        try:
            # Shielded: asyncpg cancelled mid-handshake leaves a failed future
            # behind; a stop instead lets it finish and ends the session.
            session = await asyncio.shield(connecting)
        except asyncio.CancelledError:
            connecting.add_done_callback(_end_session)
            raise
        except Exception as error:  # any connect failure: try again later
            self._unreachable(error)
            return
        try:
            while True:
                async with asyncio.timeout(self.retry_s):  # a hung session is a lost one
                    if self.is_leader:
                        await session.fetchval(PING)
                    elif await session.fetchval(TRY, LOCK_KEY):
                        self._set(True)
                self._reached()
                await self._sleep(self.retry_s)
        except Exception as error:  # the session (and the lock with it) may be gone
            self._unreachable(error)
        finally:
            self._set(False)
            session.terminate()  # ends the session at once: the lock is released

    def _unreachable(self, error: Exception) -> None:
        if self._reachable:
            self._reachable = False
            log.warning("leadership: database unreachable", error=type(error).__name__)

    def _reached(self) -> None:
        if not self._reachable:
            self._reachable = True
            log.info("leadership: database reachable again")


def _end_session(connecting: asyncio.Future[Session]) -> None:
    """A connection finished opening after the campaign stopped: end it."""
    if not connecting.cancelled() and connecting.exception() is None:
        connecting.result().terminate()


def postgres_connect(database_url: str) -> Connect:
    """Open a dedicated asyncpg connection to the SQLAlchemy ``database_url``."""
    import asyncpg  # type: ignore[import-untyped]  # no stubs

    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def connect() -> Session:
        session: Session = await asyncpg.connect(
            dsn,
            timeout=CONNECT_TIMEOUT_S,
            server_settings={"application_name": "lianbo-leader", **KEEPALIVES},
        )
        return session

    return connect
