"""Bringing a stored file into the library: type check, then QC as a job.

The type check (probe) runs while the uploader waits, so a file that is not
media is refused at once. Everything slow — analysis, screening, derived
files — runs as a job on the job queue (``container.jobs``, ADR 0012): in
this process on the embedded default, in ``lianbo worker`` processes on
PostgreSQL; one job at a time per worker (two cores: the decoder already
uses both), with progress written for the console.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial
from pathlib import Path

import structlog

from lianbo.adapters.media.probe import probe_file
from lianbo.domain.assets import clean_name
from lianbo.domain.errors import DomainError
from lianbo.domain.media import Probe
from lianbo.domain.ports import StoredBlob
from lianbo.domain.users import Actor
from lianbo.services import assets
from lianbo.services.assets import Added
from lianbo.services.context import Context
from lianbo.services.qc_job import Progress, run_qc

log = structlog.get_logger()

ASK_AGAIN_S = 300.0  # how often a worker re-asks for QC still pending


async def ingest_blob(container: Context, actor: Actor, blob: StoredBlob, name: str) -> Added:
    """Probe a just-stored blob; register it, or delete it and refuse."""
    try:
        name = clean_name(name)
        probe: Probe = await asyncio.to_thread(probe_file, blob.path)
        async with container.uow() as uow:
            added = await assets.add_file(
                uow, container.clock, container.blobs, actor, blob=blob, probe=probe, name=name
            )
    except DomainError:
        if not blob.existed:  # refused input leaves nothing behind
            await asyncio.to_thread(container.blobs.delete, blob.sha256)
        raise
    return added  # a new asset's QC is queued by its AssetAdded event


async def _write_progress(container: Context, asset_id: str, progress: Progress) -> None:
    while True:
        await asyncio.sleep(0.5)
        async with container.uow() as uow:
            await uow.assets.set_qc(
                asset_id, qc_progress=round(progress.fraction, 3), qc_stage=progress.stage
            )
            await uow.commit()


async def perform_qc(container: Context, asset_id: str) -> None:
    """One QC job, with its progress written for the console as it goes."""
    progress = Progress()
    writer = asyncio.create_task(_write_progress(container, asset_id, progress))
    started = time.perf_counter()
    try:
        await run_qc(container, asset_id, progress)
    finally:
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
    log.info("qc job done", asset_id=asset_id, seconds=round(time.perf_counter() - started, 2))


async def run_worker(container: Context) -> None:
    """Run background jobs until cancelled.

    QC the store calls unfinished is asked for again at start (the
    in-process queue forgets at exit), and QC still pending is asked for
    again every few minutes: a durable queue may have missed a request (the
    database was unreachable for the enqueue after the asset's commit). A
    request already waiting adds nothing; a finished asset's job ends at once."""
    await _ask_again(container, ("pending", "running"))
    asking = asyncio.create_task(_keep_asking(container))
    try:
        await container.jobs.work(partial(perform_qc, container))
    finally:
        asking.cancel()
        await asyncio.gather(asking, return_exceptions=True)


async def _ask_again(container: Context, states: tuple[str, ...]) -> None:
    async with container.uow() as uow:
        unfinished = await uow.assets.unfinished_qc(states)
    for asset_id in unfinished:
        await container.jobs.enqueue_qc(asset_id)


async def _keep_asking(container: Context, every_s: float = ASK_AGAIN_S) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            await _ask_again(container, ("pending",))
        except Exception:  # the store is away: the next round tries again
            log.warning("could not re-ask for pending QC", exc_info=True)


def derived_path(container: Context, sha256: str, name: str) -> Path:
    return container.blobs.derived_dir(sha256) / name
