"""Heartbeats over the screens' sockets, for ``lianbo bench monitoring``.

A connected screen beats with a ``status`` message on its socket and gets
a ``heartbeat`` reply (``adapters/fleet/inbox.py``). Every terminal opens
its socket (hand-rolled client, ``sim/wire.py``: the load generator must
cost less than the server), the processes meet at a barrier, then every
screen sends ``burst`` beats at once (the rate limit's burst) and waits for
its replies. The rate is accepted replies over the span from the first send
to the last reply, across processes; the store is then asked how many
screens' reports were written after the start (the batched flush).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import time
from datetime import UTC, datetime
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from lianbo.sim import wire

BURST = 3  # presence.BURST: beats a screen may send at once
PATH = "/terminal/v1/ws"


async def _open(port: int, token: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(wire.handshake(f"127.0.0.1:{port}", PATH, token))
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(f"socket refused: {head[:40]!r}")
    return reader, writer


async def _beat(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, frame: bytes, burst: int
) -> tuple[int, int]:
    """Send ``burst`` beats; (accepted, refused) once all are answered."""
    writer.write(frame * burst)
    buffer, accepted, refused = bytearray(), 0, 0
    while accepted + refused < burst:
        chunk = await reader.read(65536)
        if not chunk:
            break
        buffer += chunk
        for opcode, payload in wire.server_frames(buffer):
            message = json.loads(payload) if opcode == wire.TEXT else {}
            if message.get("type") == "heartbeat" and "refused" in message:
                refused += 1
            elif message.get("type") == "heartbeat":
                accepted += 1
    return accepted, refused


def _worker(
    port: int, tokens: list[str], status: dict[str, Any], barrier: Barrier, out: Any
) -> None:
    async def main() -> None:
        gate = asyncio.Semaphore(200)

        async def opened(token: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            async with gate:
                return await _open(port, token)

        sockets = await asyncio.gather(*(opened(t) for t in tokens))  # hellos: _beat skips them
        frame = wire.client_frame(wire.TEXT, json.dumps({"type": "status", **status}).encode())
        barrier.wait()
        started = time.time()
        answers = await asyncio.gather(*(_beat(r, w, frame, BURST) for r, w in sockets))
        finished = time.time()
        for _, writer in sockets:
            writer.close()
        accepted = sum(a for a, _ in answers)
        out.put((started, finished, accepted, sum(r for _, r in answers)))

    asyncio.run(main())


def measure(
    port: int, database: Path, tokens: list[str], status: dict[str, Any], processes: int = 2
) -> dict[str, Any]:
    """Heartbeats/s over sockets (see the module docstring)."""
    context = multiprocessing.get_context("spawn")  # not fork: see monitoring._load
    barrier, out = context.Barrier(processes + 1), context.Queue()
    workers = [
        context.Process(target=_worker, args=(port, tokens[i::processes], status, barrier, out))
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    barrier.wait(timeout=300)
    since = time.time()
    results = [out.get(timeout=300) for _ in workers]
    for worker in workers:
        worker.join(30)
    started = min(r[0] for r in results)
    span = max(r[1] for r in results) - started
    accepted, refused = sum(r[2] for r in results), sum(r[3] for r in results)
    stored, stored_after = _wait_stored(database, since - 1, len(tokens), started + span)
    return {
        "socket_heartbeats_per_s": round(accepted / span, 1) if span > 0 else None,
        "socket_heartbeats": {"accepted": accepted, "refused": refused, "span_s": round(span, 3)},
        "socket_heartbeat_screens_stored": stored,
        "socket_heartbeats_all_stored_after_s": stored_after,
    }


def _wait_stored(
    database: Path, since: float, expected: int, last_reply: float, within: float = 20.0
) -> tuple[int, float | None]:
    """(screens stored, seconds from the last reply until all were), polling."""
    while True:
        stored = _stored_since(database, since)
        if stored >= expected:
            return stored, round(time.time() - last_reply, 2)
        if time.time() - last_reply > within:
            return stored, None
        time.sleep(0.1)


def _stored_since(database: Path, since: float) -> int:
    """Screens whose status report the server stored after ``since``."""
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT reported_at FROM terminal_reports")).scalars()
        return sum(1 for at in rows if _epoch(at) >= since)


def _epoch(value: Any) -> float:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return float(value.timestamp())
