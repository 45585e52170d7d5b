"""The durable job queue on PostgreSQL: procrastinate (ADR 0012).

- **Leases.** Each worker beats every third of ``LIANBO_JOB_LEASE_SECONDS``;
  a worker silent for a whole lease is stalled, and any worker hands the
  stalled worker's running jobs back to the queue (procrastinate's
  stalled-job recovery), so a ``kill -9`` mid-job costs one lease.
- **Retries.** A job that raises is retried with exponential backoff
  (``LIANBO_JOB_BACKOFF_SECONDS`` ** attempt), ``LIANBO_JOB_RETRIES`` times.
  Bad media is not a failure here: QC records it on the asset and returns.
- **One run per asset.** Each job carries ``lock=asset:<id>`` (procrastinate
  starts no job while another with its lock runs) and ``queueing_lock=
  qc:<id>`` (a second request while one waits adds nothing).

The schema is Alembic revision 0009; psycopg 3 talks to the same database
as lianbo's asyncpg engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time

import structlog
from procrastinate import App, PsycopgConnector, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException
from psycopg import Error as PsycopgError
from psycopg_pool import PoolTimeout
from sqlalchemy.engine import make_url

from lianbo.domain.ports import AssetJob

log = structlog.get_logger()

# What a lost or unreachable database raises on this side of procrastinate.
CONNECTION_LOST = (ConnectorException, PsycopgError, PoolTimeout, OSError)

QUEUE = "assets"
QC_TASK = "lianbo.qc"
KEEP_SUCCEEDED_H = 7 * 24  # finished jobs are history; the asset keeps the result
KEEP_FAILED_H = 30 * 24
PRUNE_EVERY_S = 3600.0


def libpq_url(database_url: str) -> str:
    """``postgresql+asyncpg://…`` (SQLAlchemy) as the ``postgresql://…`` psycopg takes."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class PostgresJobQueue:
    """``JobQueue`` over procrastinate; opens its connection pool on first use."""

    durable = True

    def __init__(
        self,
        database_url: str,
        *,
        lease_seconds: float = 30,
        retries: int = 5,
        backoff_seconds: int = 4,
        name: str | None = None,
    ) -> None:
        connector = PsycopgConnector(
            conninfo=libpq_url(database_url), min_size=1, max_size=4, timeout=10
        )
        self.app = App(connector=connector)
        self.lease_seconds = lease_seconds
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self._job: AssetJob | None = None
        self._open = False
        self._opening = asyncio.Lock()
        retry = RetryStrategy(max_attempts=retries, exponential_wait=backoff_seconds)
        self.app.task(name=QC_TASK, queue=QUEUE, retry=retry)(self._run_qc)

    async def _run_qc(self, asset_id: str) -> None:
        if self._job is None:  # only a process inside work() fetches jobs
            raise RuntimeError("no job runner in this process")
        await self._job(asset_id)

    async def _ensure_open(self) -> None:
        async with self._opening:
            if not self._open:
                await self.app.open_async()
                self._open = True

    async def enqueue_qc(self, asset_id: str) -> None:
        """Defer QC of ``asset_id``; a request already waiting makes this a no-op."""
        await self._ensure_open()
        deferrer = self.app.configure_task(
            QC_TASK, lock=f"asset:{asset_id}", queueing_lock=f"qc:{asset_id}"
        )
        try:
            await deferrer.defer_async(asset_id=asset_id)
        except AlreadyEnqueued:
            pass  # one is waiting already: it will do
        except CONNECTION_LOST:
            # The asset is committed; a worker re-asks for pending QC (services.ingest).
            log.warning("qc not queued: job queue unreachable", asset_id=asset_id)

    async def backlog(self) -> int:
        """Jobs waiting to start, due now or later (retries wait their backoff)."""
        await self._ensure_open()
        row = await self.app.connector.execute_query_one_async(
            "SELECT count(*) AS waiting FROM procrastinate_jobs"
            " WHERE queue_name = %(queue)s AND status = 'todo'",
            queue=QUEUE,
        )
        return int(row["waiting"])

    async def work(self, job: AssetJob) -> None:
        """Be a worker until cancelled: run jobs, recover stalled ones; a
        lost database is logged once, and the worker starts again when it is back."""
        self._job = job
        lost = False
        while True:
            try:
                await self._ensure_open()
                if lost:
                    log.info("job queue reachable again")
                    lost = False
                await self._work()
                return
            except CONNECTION_LOST as error:
                if not lost:
                    log.warning("job queue unreachable; retrying", error=type(error).__name__)
                    lost = True
                await asyncio.sleep(min(5.0, self.lease_seconds))

    async def _work(self) -> None:
        recovery = asyncio.create_task(self._recover_stalled())
        try:
            await self.app.run_worker_async(
                queues=[QUEUE],
                name=self.name,
                concurrency=1,  # QC already uses both cores
                install_signal_handlers=False,  # the process owns its signals
                update_heartbeat_interval=self.lease_seconds / 3,
                stalled_worker_timeout=self.lease_seconds,
                fetch_job_polling_interval=min(5.0, self.lease_seconds),
            )
        finally:
            recovery.cancel()
            await asyncio.gather(recovery, return_exceptions=True)

    async def prune(self) -> None:
        """Delete finished jobs: succeeded after ``KEEP_SUCCEEDED_H``, failed,
        cancelled or aborted ones (kept for diagnosis) after ``KEEP_FAILED_H``.
        Idempotent, so every worker may do it; the table stays small."""
        await self._ensure_open()
        manager = self.app.job_manager
        await manager.delete_old_jobs(KEEP_SUCCEEDED_H, queue=QUEUE)
        await manager.delete_old_jobs(
            KEEP_FAILED_H,
            queue=QUEUE,
            include_failed=True,
            include_cancelled=True,
            include_aborted=True,
        )

    async def _recover_stalled(self) -> None:
        """Every lease, put the jobs of workers silent for a lease back in the
        queue; every ``PRUNE_EVERY_S``, delete old finished jobs."""
        manager = self.app.job_manager
        pruned_at = -PRUNE_EVERY_S
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                if time.monotonic() - pruned_at >= PRUNE_EVERY_S:
                    pruned_at = time.monotonic()
                    await self.prune()
                stalled = await manager.get_stalled_jobs(
                    queue=QUEUE, seconds_since_heartbeat=self.lease_seconds
                )
                for job in stalled:
                    # Another worker may take it back first: that one wins.
                    with contextlib.suppress(ConnectorException):
                        await manager.retry_job(job)
                        log.warning("stalled job requeued", job_id=job.id, task=job.task_name)
            except CONNECTION_LOST:
                pass  # the worker itself notices and reports a lost database

    async def close(self) -> None:
        if self._open:
            self._open = False
            await self.app.close_async()
