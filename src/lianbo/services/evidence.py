"""Evidence views: the monitoring wall, stored screenshots, expected frames.

The console shows a content-mismatch alarm as the screenshot beside the
frame the screen should have shown; ``expected_frame`` renders that frame
from the asset (cached beside its other derived files).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.adapters.media.derive import _pictures
from lianbo.domain.errors import InvalidInput, NotFound
from lianbo.domain.media import Probe
from lianbo.domain.ports import BlobStore

_PNG = b"\x89PNG\r\n\x1a\n"


EXPECTED_WIDTH = 640


def media_type(path: Path) -> str:
    """A stored screenshot's media type, from its first bytes."""
    with path.open("rb") as handle:
        head = handle.read(8)
    return "image/png" if head.startswith(_PNG) else "image/jpeg"


async def local_file(blobs: BlobStore, sha256: str) -> Path | None:
    """A local file with a stored blob's bytes (S3: through the cache), or
    None when it is not stored; off the event loop (S3 answers over the network)."""
    return await asyncio.to_thread(_local_file, blobs, sha256)


def _local_file(blobs: BlobStore, sha256: str) -> Path | None:
    if not blobs.exists(sha256):
        return None
    try:
        return blobs.path(sha256)
    except NotFound:  # deleted between the two questions
        return None


async def wall(
    uow: UnitOfWork, within: str, region: str, tier: str | None, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """Monitoring wall items: each screen, its status, latest shot and verdict."""
    found, total = await uow.monitoring.wall(within, region, tier, limit=limit, offset=offset)
    items = [
        {
            "terminal_id": screen.id,
            "name": screen.name,
            "tier": screen.tier,
            "region": screen.region,
            "status": screen.status,
            "verdict": shot.verdict if shot else None,
            "distance": shot.distance if shot else None,
            "screenshot_url": f"/media/{shot.sha256}" if shot else None,
            "at": shot.taken_at.isoformat() if shot else None,
            "expected": shot.expected if shot else None,
        }
        for screen, shot in found
    ]
    return items, total


async def expected_frame(uow: UnitOfWork, blobs: BlobStore, evidence: dict[str, Any]) -> Path:
    """A JPEG of the frame that should have been on screen (cached beside the asset)."""
    expected = evidence.get("expected") or {}
    asset = await uow.assets.get(str(expected.get("asset_id") or ""))
    if asset is None or asset.sha256 is None or asset.probe is None:
        raise NotFound("this alarm names no expected picture")
    at_s = float(expected.get("at_s") or 0.0)
    target = blobs.derived_dir(asset.sha256) / f"expected-{round(at_s * 1000)}.jpg"
    if not target.exists():
        source = await asyncio.to_thread(blobs.path, asset.sha256)  # S3: via the cache
        probe = asset.probe
        try:
            await asyncio.to_thread(_render, source, probe, at_s, target)
        except InvalidInput as error:
            raise NotFound(f"the expected picture cannot be shown ({error.message})") from None
    return target


def _render(source: Path, probe: Probe, at_s: float, target: Path) -> None:
    # derive's picture reader seeks and scales inside FFmpeg; reused rather
    # than decoding a second way here.
    picture = _pictures(source, probe, [at_s], EXPECTED_WIDTH)[0]
    temp = target.with_suffix(".tmp")
    picture.convert("RGB").save(temp, "JPEG", quality=85)
    temp.replace(target)
