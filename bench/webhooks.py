"""Benchmark ``webhooks``: from an alarm's commit to its webhook's arrival.

The embedded default (SQLite, one process): the alarm desk opens an alarm
(one transaction: the alarm and its outbox row), the bus's
``WebhooksQueued`` wakes the leader's sender, which POSTs to a local HTTP
receiver (a thread). The figure is the wall-clock time from the start of
the alarm's store to the receiver's arrival, one alarm at a time (idle)
and for N alarms opened in one batch (burst: the last one's arrival). The
sender's poll is an hour, so only the wake-up can make it quick. Issue 14's
goal: well under a second (ADR 0016).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from lianbo.bootstrap import bootstrap
from lianbo.config import Settings
from lianbo.domain.monitoring.alarms import AlarmType
from lianbo.services.alarms import observation
from lianbo.services.setup import initialise

DEFAULT_SIZE = 200  # alarms per phase


class _Receiver:
    """Arrival times by alarm terminal id (the bench's alarms name their own)."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.changed = asyncio.Event()
        loop = asyncio.get_running_loop()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                import json

                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                receiver.at[body["alarm"]["terminal_id"]] = time.time()
                loop.call_soon_threadsafe(receiver.changed.set)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    async def arrived(self, names: list[str]) -> None:
        async with asyncio.timeout(60):
            while not all(name in self.at for name in names):
                await self.changed.wait()
                self.changed.clear()  # the next check sees what came meanwhile

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _ms(taken: list[float]) -> dict[str, float]:
    ms = sorted(max(t, 0.0) * 1000 for t in taken)
    cut = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return {
        "p50_ms": round(statistics.median(ms), 2),
        "p99_ms": round(cut[98], 2),
        "max_ms": round(ms[-1], 2),
    }


async def _measure(data_dir: Path, size: int) -> dict[str, Any]:
    receiver = _Receiver()
    settings = Settings(
        data_dir=data_dir, alarm_webhooks=[receiver.url], webhook_poll_seconds=3600.0
    )
    container = bootstrap(settings)
    await initialise(container)
    desk = container.monitor.desk
    sender = asyncio.create_task(container.monitor.webhooks.run())
    try:
        idle = []
        for n in range(size):
            name = f"bench-idle-{n}"
            found = observation(name, AlarmType.OFFLINE, True, "outdoor")
            started = time.time()
            await desk.observe([found], {name: "51"})
            await receiver.arrived([name])
            idle.append(receiver.at[name] - started)
        names = [f"bench-burst-{n}" for n in range(size)]
        batch = [observation(name, AlarmType.OFFLINE, True, "outdoor") for name in names]
        started = time.time()
        await desk.observe(batch, dict.fromkeys(names, "51"))
        await receiver.arrived(names)
        burst_s = max(receiver.at[name] for name in names) - started
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        await container.close()
        receiver.close()
    return {
        "idle": {"alarms": size, **_ms(idle)},
        "burst": {"alarms": size, "last_ms": round(burst_s * 1000, 2)},
    }


def run(size: int, data_dir: Path | None, **_: Any) -> dict[str, Any]:
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="lianbo-bench-"))
    figures = asyncio.run(_measure(data_dir, size))
    return {
        "bench": "webhooks",
        "store": "sqlite",
        **figures,
        "cpus": os.cpu_count(),
        "targets": {"p99_ms": 1000},
    }
