"""The QC job for one asset: analyse, judge, screen, derive.

Runs as a job from the job queue (``services.ingest.perform_qc``). CPU-heavy
steps run in a thread so the process keeps answering; progress goes through
``Progress`` to the console. A job for an asset whose QC already finished
ends at once: a durable queue may hand the same asset over twice (a request
re-made at a worker's start, a lease that ran out), never concurrently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from lianbo.adapters.media import derive
from lianbo.adapters.media.analyse import analyse
from lianbo.adapters.media.errors import MediaDecodeError
from lianbo.adapters.media.screen import screen_file, screen_text
from lianbo.domain.assets import Asset, QcStatus
from lianbo.domain.errors import DomainError
from lianbo.domain.media import Analysis, AssetKind, QcReport, ScreeningHit
from lianbo.domain.qc import judge
from lianbo.services.context import Context

FINISHED = frozenset({QcStatus.PASSED, QcStatus.WARNINGS, QcStatus.FAILED, QcStatus.NOT_APPLICABLE})

# The rendition every video gets for living-room screens (home tier).
HOME_RENDITION = ("home-1080p", 1920, 1080)


class Progress:
    """Thread-safe hand-off of a job's progress to the writer coroutine."""

    def __init__(self) -> None:
        self.stage = "queued"
        self.fraction = 0.0

    def callback(self, stage: str, low: float, high: float) -> Callable[[float], None]:
        def report(value: float) -> None:
            self.stage = stage
            self.fraction = low + (high - low) * min(max(value, 0.0), 1.0)

        return report


async def run_qc(container: Context, asset_id: str, progress: Progress) -> None:
    async with container.uow() as uow:
        asset = await uow.assets.get(asset_id)
        if asset is None or asset.qc_status in FINISHED:
            return
        await uow.assets.set_qc(asset_id, qc_status=QcStatus.RUNNING, qc_error=None)
        await uow.commit()
    try:
        if asset.kind is AssetKind.TICKER:
            await _ticker(container, asset)
        elif asset.sha256 is not None:
            await _file(container, asset, progress)
    except (DomainError, OSError, ValueError, RuntimeError) as error:
        await _save(container, asset_id, qc_status=QcStatus.FAILED, qc_error=_reason(error))


def _reason(error: Exception) -> str:
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    return text[:500]


async def _save(container: Context, asset_id: str, **values: Any) -> None:
    async with container.uow() as uow:
        await uow.assets.set_qc(asset_id, **values)
        await uow.commit()


def _hits(hits: list[ScreeningHit], words: int) -> dict[str, Any]:
    return {"hits": [asdict(h) for h in hits], "words": words}


async def _ticker(container: Context, asset: Asset) -> None:
    words = container.settings.words()
    hits = screen_text(asset.text or "", words)
    await _save(
        container,
        asset.id,
        qc_status=QcStatus.PASSED,
        qc_progress=1.0,
        qc_stage="done",
        screening=_hits(hits, len(words)),
    )


async def _file(container: Context, asset: Asset, progress: Progress) -> None:
    assert asset.sha256 is not None and asset.probe is not None
    path = await asyncio.to_thread(container.blobs.path, asset.sha256)  # S3: via the cache
    settings = container.settings
    decode_error: str | None = None
    try:
        analysis: Analysis = await asyncio.to_thread(
            analyse, path, asset.probe, progress=progress.callback("analyse", 0.0, 0.6)
        )
    except MediaDecodeError as error:
        # Damaged media: judge what did decode, and fail with the reason.
        analysis, decode_error = error.partial, error.reason
    report: QcReport = judge(
        asset.probe, analysis, settings.profiles(), settings.loudness(), decode_error=decode_error
    )
    progress.callback("screening", 0.6, 0.75)(0.0)
    words = settings.words()
    hits = await asyncio.to_thread(screen_file, path, asset.probe, words)
    await _save(
        container,
        asset.id,
        qc=_report_json(report),
        fit_tiers=report.fit_tiers,
        phash_track=analysis.phash_track,
        screening=_hits(hits, len(words)),
    )
    await _derive(container, asset, path, progress)
    await _save(
        container,
        asset.id,
        qc_status=report.status,
        qc_progress=1.0,
        qc_stage="done",
        qc_error=decode_error,
    )


def _report_json(report: QcReport) -> dict[str, Any]:
    analysis = asdict(report.analysis)
    analysis.pop("phash_track", None)
    return {
        "status": report.status,
        "findings": [asdict(f) for f in report.findings],
        "fit_tiers": list(report.fit_tiers),
        "analysis": analysis,
    }


async def _derive(container: Context, asset: Asset, path: Path, progress: Progress) -> None:
    """Poster, sprite and (for video) the home rendition, stored as blobs."""
    assert asset.probe is not None
    made: list[tuple[str, Path, str, int | None, int | None]] = []
    poster = container.blobs.temp_path()
    await asyncio.to_thread(derive.make_thumbnail, path, poster, asset.probe)
    made.append(("poster", poster, "image/jpeg", None, None))
    if asset.kind is AssetKind.VIDEO:
        sprite = container.blobs.temp_path()
        await asyncio.to_thread(derive.make_sprite, path, sprite, asset.probe)
        made.append(("sprite", sprite, "image/jpeg", None, None))
        if container.settings.renditions:
            name, width, height = HOME_RENDITION
            target = container.blobs.temp_path().with_suffix(".mp4")
            await asyncio.to_thread(
                derive.make_rendition,
                path,
                target,
                width=width,
                height=height,
                progress=progress.callback("renditions", 0.75, 1.0),
            )
            made.append((name, target, "video/mp4", width, height))
    async with container.uow() as uow:
        for label, temp, media_type, w, h in made:
            blob = await asyncio.to_thread(container.blobs.adopt, temp)
            await uow.assets.put_rendition(
                asset.id,
                label,
                sha256=blob.sha256,
                size=blob.size,
                media_type=media_type,
                width=w,
                height=h,
            )
        await uow.commit()
