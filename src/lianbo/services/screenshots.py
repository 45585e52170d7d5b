"""Screenshot verification: is the screen showing what it should?

A terminal posts a JPEG or PNG (framebuffer or camera). We check it is one
by its bytes (not its name), hash it (``adapters/media/screenshots``), find
what the terminal's manifest says was on screen at ``taken_at`` (asset and
offset, simulcast arithmetic included), and judge it against that asset's
pHash track (``domain/monitoring/verification``): match, mismatch, black,
frozen or unknown. The verdict feeds the alarm book (two mismatches in a row
→ critical ``content-mismatch``); the shot is kept in the blob store as the
terminal's latest (monitoring wall) and as alarm evidence.

A camera shot is registered first with the terminal's screen quad
(``domain/monitoring/quad``). Decoding and hashing run in a worker thread
(Pillow lets go of the GIL while it decodes and resizes, so concurrent
shots use every core); the latest-screenshot rows are written in batches
by the server's flusher (``LatestShots``), as heartbeats are.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from lianbo.adapters.db.repos.monitoring import TrackFacts
from lianbo.adapters.db.uow import UnitOfWork
from lianbo.adapters.media.screenshots import Measured, measure_photo, measure_screenshot
from lianbo.domain.errors import Conflict, InvalidInput, TooLarge, Unprocessable
from lianbo.domain.monitoring.alarms import Observation
from lianbo.domain.monitoring.quad import Quad, check_quad
from lianbo.domain.monitoring.records import ScreenFacts, Screenshot
from lianbo.domain.monitoring.screens import observations
from lianbo.domain.monitoring.tracks import Tracks, read_tracks
from lianbo.domain.monitoring.verification import (
    Expected,
    Verdict,
    Verification,
    between,
    offset_into,
    verify,
)
from lianbo.domain.ports import BlobStore
from lianbo.services.alarms import with_evidence
from lianbo.services.programme import Programme

log = structlog.get_logger()

MAX_BYTES = 8 * 1024 * 1024
FUTURE_SLACK = timedelta(seconds=120)
MAX_AGE = timedelta(hours=24)
SOURCES = ("framebuffer", "camera")
_JPEG, _PNG = b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"


def media_type_of(data: bytes) -> str:
    """``image/jpeg`` or ``image/png`` by the file's signature, else InvalidInput."""
    if data.startswith(_JPEG):
        return "image/jpeg"
    if data.startswith(_PNG):
        return "image/png"
    raise InvalidInput("a screenshot is a JPEG or PNG image", field="file")


def check_upload(
    data: bytes, taken_at: datetime, source: str, now: datetime, *, stub: bool = False
) -> str:
    """Refuse what cannot be a screenshot; returns its media type."""
    if len(data) > MAX_BYTES:
        raise TooLarge(f"a screenshot is at most {MAX_BYTES} bytes", field="file")
    media_type = media_type_of(data)
    if taken_at.tzinfo is None:
        raise InvalidInput("taken_at needs a UTC offset", field="taken_at")
    if taken_at > now + FUTURE_SLACK or taken_at < now - MAX_AGE:
        raise InvalidInput("taken_at is in the future or more than a day ago", field="taken_at")
    if source not in SOURCES:
        raise InvalidInput(f"source is one of {', '.join(SOURCES)}", field="source")
    if stub and source == "camera":  # a stand-in picture is never a camera's photo
        raise Unprocessable("a stub picture cannot come from a camera", field="stub")
    return media_type


@dataclass(frozen=True, slots=True)
class Judged:
    """A verification with what was expected, and the observations it makes."""

    result: Verification
    expected: dict[str, Any] | None
    observations: list[Observation]
    screenshot: Screenshot


def expected_of(
    programme: Programme | None, track: TrackFacts | None, taken_at: datetime
) -> tuple[Expected | None, dict[str, Any] | None]:
    """The ``Expected`` for the verification and its evidence form."""
    showing = programme.showing(taken_at) if programme is not None else None
    if showing is None or track is None or track.asset_id != showing.asset_id:
        return None, None
    at_s = offset_into(showing.item_offset_ms, track.duration_s)
    evidence = {
        "asset_id": showing.asset_id,
        "at_s": round(at_s, 3),
        "schedule_id": showing.schedule_id,
    }
    if not track.track:
        return None, evidence
    # Any stored track version: the full frame, plus above/below-band planes when analysed.
    tracks = _tracks(track.track)
    expected = Expected(tracks.full, at_s, track.black, track.still, tracks.above, tracks.below)
    return expected, evidence


@functools.lru_cache(maxsize=64)  # ~0.8 MB a 2 h video: assets on air at once
def _tracks(blob: bytes) -> Tracks:
    """A stored track, unpacked once: a 2 h video's is 21,600 hashes, ~5 ms to
    read, and every shot of it needs it (the monitor keeps the same bytes
    object per asset, so the lookup hashes it once)."""
    return read_tracks(blob)


def store(blobs: BlobStore, data: bytes) -> str:
    """Keep the shot in the blob store (once: blobs are content-addressed); its sha256."""
    sha256 = hashlib.sha256(data).hexdigest()
    if not blobs.exists(sha256):
        temp = blobs.temp_path()
        temp.write_bytes(data)
        blobs.adopt(temp, sha256, len(data))
    return sha256


def measure_and_store(blobs: BlobStore, data: bytes, quad: Quad | None) -> tuple[Measured, str]:
    """Hash the shot (registered by ``quad`` when given), then keep it; one
    worker-thread hop for both. A shot that does not decode is not kept."""
    measured = measure_screenshot(data) if quad is None else measure_photo(data, quad)
    return measured, store(blobs, data)


async def judge(
    blobs: BlobStore,
    screen: ScreenFacts,
    programme: Programme | None,
    track: TrackFacts | None,
    previous: Screenshot | None,
    upload: tuple[bytes, str, datetime, str],
    now: datetime,
    *,
    stub: bool = False,
    quad: Quad | None = None,
) -> Judged:
    """Measure, verify and keep one screenshot; the caller stores its row
    (``LatestShots``) and feeds the alarms.

    A ``stub`` (a headless player's stand-in picture, not read from a
    screen) is kept for the wall but proves nothing: verdict ``unknown``.
    A camera shot comes with its terminal's screen ``quad``.
    """
    data, media_type, taken_at, source = upload
    measured, sha256 = await asyncio.to_thread(measure_and_store, blobs, data, quad)
    expected, evidence = expected_of(programme, track, taken_at)
    last, since = _previous(previous, evidence, expected)
    result = Verification(Verdict.UNKNOWN) if stub else verify(measured.shot, expected, last, since)
    shot = Screenshot(
        screen.id,
        sha256,
        media_type,
        taken_at,
        now,
        source,
        result.verdict.value,
        result.distance,
        measured.shot.phash,
        evidence,
    )
    extra = {"screenshot": sha256, "expected": evidence, "distance": result.distance}
    made = [] if stub else observations(result, screen.id, screen.tier)
    found = [with_evidence(o, **extra) for o in made]
    return Judged(result, evidence, found, shot)


class LatestShots:
    """Each terminal's latest screenshot on its way to the store.

    With ``batching`` (the server's background job runs a flusher) a shot
    waits here, the newest per terminal winning, until ``flush`` writes all
    of them in one transaction; the monitoring wall is then at most one
    flush behind and the request path has no transaction. Without it (CLI,
    tests without a lifespan) each shot is written at once.
    """

    def __init__(self) -> None:
        self._held: dict[str, Screenshot] = {}

    async def put(
        self, shot: Screenshot, uows: Callable[[], UnitOfWork], *, batching: bool
    ) -> None:
        """Hold ``shot`` for the next flush, or write it now."""
        if batching:
            self._held[shot.terminal_id] = shot
            return
        async with uows() as uow:
            await uow.screenshots.put_screenshot(shot)
            await uow.commit()

    async def flush(self, uows: Callable[[], UnitOfWork]) -> int:
        """Write the held shots; how many. A failed write is logged, not
        raised: those rows are lost and the screens' next shots replace them."""
        held, self._held = self._held, {}
        if not held:
            return 0
        try:
            async with uows() as uow:
                await uow.screenshots.put_screenshots(list(held.values()))
                await uow.commit()
        except Exception:  # the flusher must go on; blobs and alarms are already kept
            log.exception("latest screenshots flush failed", shots=len(held))
            return 0
        return len(held)


def _previous(
    previous: Screenshot | None, evidence: dict[str, Any] | None, expected: Expected | None
) -> tuple[int | None, list[int]]:
    """The previous shot's hash and the expected track since then (for frozen)."""
    if previous is None or evidence is None or expected is None or previous.expected is None:
        return None, []
    if previous.expected.get("asset_id") != evidence["asset_id"]:
        return None, []
    start = float(previous.expected.get("at_s") or 0.0)
    return previous.phash, between(expected.track, start, expected.offset_s)


async def quad_of(uow: UnitOfWork, terminal_id: str, source: str) -> Quad | None:
    """The screen quad a ``camera`` shot is registered with (None for a framebuffer
    shot); ``Conflict`` when the terminal has none, so nothing is stored."""
    if source != "camera":
        return None
    stored = await uow.screenshots.screen_quad(terminal_id)
    if stored is None:
        raise Conflict(
            "this terminal has no screen quad, so a camera shot cannot be registered: "
            f"PUT /api/v1/terminals/{terminal_id}/screen-quad first",
            field="source",
        )
    return check_quad(stored)
