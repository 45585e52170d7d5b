"""The embedded job queue: an asyncio queue drained by the one process.

Nothing outlives the process, so the worker re-queues unfinished QC from
the store when it starts (``services.ingest.run_worker``). Jobs run one at
a time (two cores: the decoder already uses both); a job that raises is
logged and not retried, as before the durable queue existed.
"""

from __future__ import annotations

import asyncio

import structlog

from lianbo.domain.ports import AssetJob

log = structlog.get_logger()


class InProcessJobQueue:
    """``JobQueue`` for one process (SQLite, ``LIANBO_ROLE=all``)."""

    durable = False

    def __init__(self) -> None:
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._waiting: dict[str, None] = {}  # insertion-ordered set

    async def enqueue_qc(self, asset_id: str) -> None:
        """Queue ``asset_id`` unless it is already waiting."""
        if asset_id in self._waiting:
            return
        self._waiting[asset_id] = None
        self._queue.put_nowait(asset_id)

    def waiting(self) -> list[str]:
        """Asset ids queued and not yet started, oldest first (for tests and the console)."""
        return list(self._waiting)

    async def backlog(self) -> int:
        return len(self._waiting)

    async def work(self, job: AssetJob) -> None:
        """Run jobs one after another, forever."""
        while True:
            asset_id = await self._queue.get()
            self._waiting.pop(asset_id, None)
            try:
                await job(asset_id)
            except Exception:  # one bad job must not stop the worker
                log.exception("job failed", asset_id=asset_id)

    async def close(self) -> None:
        return None
