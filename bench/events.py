"""Benchmark ``events``: propagation of a committed event between two
processes' containers on PostgreSQL (``LISTEN/NOTIFY``).

Two processes, each with its own ``bootstrap()`` container and listener
connection on one database: A (this process) and B (a child process, so
neither's work delays the other's event loop). For each of N events, A
records it and commits; the figure is the wall-clock time from the start of
A's commit until B's handler runs it (commit + NOTIFY + delivery + decode +
dispatch). Measured idle (one event at a time) and under a burst (N events
from 10 concurrent writers, each timed from its own commit). Issue 14's
goal: p99 <= 200 ms.

PostgreSQL: ``LIANBO_DATABASE_URL`` when set (an empty database is migrated),
otherwise a private cluster started for the run (``bench/harness/postgres.py``).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lianbo.bootstrap import Container, bootstrap
from lianbo.config import Settings
from lianbo.domain import events as ev
from lianbo.services.setup import initialise

DEFAULT_SIZE = 1_000  # events per phase
REPO = Path(__file__).resolve().parents[1]  # process B imports bench.events from here


@contextmanager
def _database() -> Iterator[str]:
    """A PostgreSQL URL for the run (the environment's, or a private cluster)."""
    given = os.environ.get("LIANBO_DATABASE_URL")
    if given:
        yield given
        return
    from bench.harness.postgres import start_postgres

    server = start_postgres()
    if server is None:
        raise SystemExit("bench events needs PostgreSQL (apt-get install postgresql)")
    try:
        yield server.url("postgres")
    finally:
        server.discard()


class _Peer:
    """Process B: reports ``<name> <wall time>`` for each bench event it handles."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.at: dict[str, float] = {}
        self.waiting: dict[str, asyncio.Future[None]] = {}
        self._reader = asyncio.create_task(self._read())
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            parts = line.decode().split()
            if parts == ["ready"] and not self.ready.done():
                self.ready.set_result(None)
            elif len(parts) == 2 and parts[0].startswith("bench-"):
                self.at[parts[0]] = float(parts[1])
                done = self.waiting.pop(parts[0], None)
                if done is not None and not done.done():
                    done.set_result(None)

    def expect(self, name: str) -> asyncio.Future[None]:
        return self.waiting.setdefault(name, asyncio.get_running_loop().create_future())

    async def close(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()
        self._reader.cancel()


async def _commit(container: Container, name: str) -> float:
    started = time.time()
    async with container.uow() as uow:
        uow.record(ev.TerminalEdited(name))  # names no terminal: the handlers do nothing
        await uow.commit()
    return started


async def _idle(a: Container, peer: _Peer, count: int) -> list[float]:
    """One event at a time: A commits, B receives, then the next."""
    taken = []
    for n in range(count):
        name = f"bench-idle-{n}"
        arrived = peer.expect(name)
        started = await _commit(a, name)
        async with asyncio.timeout(30):
            await arrived
        taken.append(peer.at[name] - started)
    return taken


async def _burst(a: Container, peer: _Peer, count: int) -> list[float]:
    """``count`` commits from 10 concurrent writers on A; each timed from its own commit."""
    names = [f"bench-burst-{n}" for n in range(count)]
    started: dict[str, float] = {}
    arrived = [peer.expect(name) for name in names]

    async def writer(part: list[str]) -> None:
        for name in part:
            started[name] = await _commit(a, name)

    await asyncio.gather(*(writer(names[k::10]) for k in range(10)))
    await asyncio.wait(arrived, timeout=60)
    return [peer.at[name] - started[name] for name in names if name in peer.at]


def _figures(taken: list[float], sent: int) -> dict[str, Any]:
    ms = sorted(max(t, 0.0) * 1000 for t in taken)
    cut = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return {
        "events": sent,
        "received": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p99_ms": round(cut[98], 2),
        "max_ms": round(ms[-1], 2),
    }


async def _connected(container: Container) -> None:
    for _ in range(3000):  # a minute at most
        if container.bus.connected:
            return
        await asyncio.sleep(0.02)
    raise SystemExit("the event bus did not connect")


async def _measure(url: str, data_dir: Path, size: int) -> dict[str, Any]:
    a = bootstrap(Settings(data_dir=data_dir, database_url=url))
    await initialise(a)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.events",
        url,
        str(data_dir),
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO,
    )
    peer = _Peer(process)
    try:
        await a.bus.start()
        await _connected(a)
        async with asyncio.timeout(60):
            await peer.ready
        idle = _figures(await _idle(a, peer, size), size)
        burst = _figures(await _burst(a, peer, size), size)
    finally:
        await peer.close()
        await a.bus.stop()
        await a.close()
    return {"idle": idle, "burst": burst}


async def _serve_peer(url: str, data_dir: Path) -> None:
    """Process B: listen, and print each bench event's arrival time."""
    b = bootstrap(Settings(data_dir=data_dir, database_url=url))

    async def arrived(event: ev.Event) -> None:
        assert isinstance(event, ev.TerminalEdited)
        print(event.terminal_id, repr(time.time()), flush=True)

    b.bus.subscribe(ev.TerminalEdited, arrived, everywhere=True)
    await b.bus.start()
    await _connected(b)
    print("ready", flush=True)
    await asyncio.Event().wait()  # until terminated


def run(size: int, data_dir: Path | None, **_: Any) -> dict[str, Any]:
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="lianbo-bench-"))
    with _database() as url:
        figures = asyncio.run(_measure(url, data_dir, size))
    return {
        "bench": "events",
        "transport": "postgres LISTEN/NOTIFY",
        **figures,
        "cpus": os.cpu_count(),
        "targets": {"p99_ms": 200},
    }


if __name__ == "__main__":  # process B
    asyncio.run(_serve_peer(sys.argv[1], Path(sys.argv[2])))
