"""Benchmark ``manifests``: building, incremental rebuild, 304 rate, media delivery.

Issue 4 targets on this 2-core machine: 100,000 terminals and 2,000
published schedules, all manifests built in <= 10 s; publishing one schedule
that reaches 10,000 terminals rebuilds theirs in <= 1 s; ``GET
/terminal/v1/manifest`` answering 304 at >= 2,000 requests/s from one
server process; ``GET /media/{sha256}`` of a 1 GiB file at >= 500 MB/s with
server memory growth under 50 MB.
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench import seed
from bench.loadgen import download, hammer
from bench.server import served
from lianbo.bootstrap import Container, bootstrap
from lianbo.config import Settings
from lianbo.domain.assets import Asset, QcStatus
from lianbo.domain.media import AssetKind, Probe
from lianbo.domain.playlists import Playlist, PlaylistItem
from lianbo.domain.review import ReviewState
from lianbo.domain.schedules import SCHEDULABLE, Schedule, ScheduleState, Targets, parse_window
from lianbo.domain.tokens import digest
from lianbo.domain.users import SYSTEM
from lianbo.services import manifests, schedules
from lianbo.services.setup import initialise

DEFAULT_SIZE = 100_000  # what `lianbo bench` uses without --size


async def _programme(container: Container, count: int, places: list[str]) -> str:
    """One approved image, one playlist, ``count`` published schedules."""
    now = datetime.now(UTC)
    writer = container.blobs.writer(1 << 30)
    writer.write(os.urandom(200_000))
    blob = writer.finish()
    asset = Asset(
        id=uuid.uuid4().hex,
        name="bench.png",
        kind=AssetKind.IMAGE,
        region="51",
        owner="bench",
        review_state=ReviewState.APPROVED,
        review_round=1,
        qc_status=QcStatus.PASSED,
        created_at=now,
        updated_at=now,
        sha256=blob.sha256,
        size=blob.size,
        probe=Probe(kind=AssetKind.IMAGE, container="png_pipe", width=1920, height=1080),
    )
    playlist = Playlist(uuid.uuid4().hex, "bench", (PlaylistItem(asset.id, 10_000),), "51", "bench")
    rng = random.Random(4)
    cities = sorted({p[:4] for p in places})
    async with container.uow() as uow:
        await uow.assets.add(asset)
        await uow.programming.add_playlist(playlist, now)
        for i in range(count):
            target = rng.choice([rng.choice(places), rng.choice(places), rng.choice(cities), "51"])
            start = now + timedelta(hours=rng.randrange(-24, 40))
            await uow.programming.add_schedule(
                Schedule(
                    id=uuid.uuid4().hex,
                    name=f"s{i}",
                    playlist_id=playlist.id,
                    targets=Targets((target,)),
                    starts_at=start,
                    ends_at=start + timedelta(hours=rng.randrange(1, 72)),
                    priority=rng.choice(SCHEDULABLE),
                    daily_window=parse_window("07:00", "23:00") if i % 3 == 0 else None,
                    rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR" if i % 7 == 0 else None,
                    state=ScheduleState.PUBLISHED,
                    published_at=now - timedelta(seconds=i),
                    region="51",
                    owner="bench",
                    created_at=now,
                )
            )
        await uow.commit()
    return playlist.id


async def _build(settings: Settings, size: int) -> dict[str, Any]:
    container = bootstrap(settings)
    await initialise(container)
    places = await seed.counties(container)
    terminals = await seed.terminals(container, size, places)
    playlist_id = await _programme(container, max(size // 50, 10), places)
    started = time.perf_counter()
    built = await manifests.rebuild(container)
    full_s = time.perf_counter() - started

    # One new schedule for a whole city (Chengdu: about a tenth of the screens).
    now = datetime.now(UTC)
    draft = Schedule(
        id=uuid.uuid4().hex,
        name="city",
        playlist_id=playlist_id,
        targets=Targets(("5101",)),
        starts_at=now,
        ends_at=now + timedelta(days=2),
        priority=SCHEDULABLE[0],
        region="51",
        owner="bench",
        created_at=now,
    )
    async with container.uow() as uow:
        await uow.programming.add_schedule(draft)
        await uow.commit()
    reached = sum(1 for t in terminals if t.region.startswith("5101"))
    started = time.perf_counter()
    async with container.uow() as uow:
        await schedules.publish(uow, container.clock, SYSTEM, draft.id)
    publish_s = time.perf_counter() - started

    # Tokens for the 304 test: a few hundred screens.
    tokens = [uuid.uuid4().hex for _ in range(200)]
    async with container.uow() as uow:
        for terminal, token in zip(terminals, tokens, strict=False):
            await uow.terminals.set_token(terminal.id, digest(token))
        await uow.commit()
    await container.close()
    return {
        "terminals": size,
        "schedules": max(size // 50, 10) + 1,
        "audiences": built.audiences,
        "build_all_s": round(full_s, 2),
        "publish_terminals": reached,
        "publish_rebuild_s": round(publish_s, 3),
        "_tokens": tokens,
    }


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def _over_http(
    port: int, tokens: list[str], media_sha: str, seconds: float
) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base) as client:
        etags = []
        for token in tokens[:50]:
            response = await client.get(
                "/terminal/v1/manifest", headers={"Authorization": f"Bearer {token}"}
            )
            response.raise_for_status()
            etags.append(response.headers["etag"])
    token, etag = tokens[0], etags[0]
    rate, statuses = await hammer(
        "127.0.0.1",
        port,
        "/terminal/v1/manifest",
        {"Authorization": f"Bearer {token}", "If-None-Match": etag},
        connections=32,
        seconds=seconds,
    )
    received, seconds = await download("127.0.0.1", port, f"/media/{media_sha}")
    return {
        "manifest_304_rps": round(rate),
        "manifest_304_statuses": statuses,
        "media_bytes": received,
        "media_mb_s": round(received / seconds / 1e6),
    }


def run(size: int, data_dir: Path | None, **_: Any) -> dict[str, Any]:
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="lianbo-bench-"))
    settings = Settings(data_dir=data_dir)
    figures = asyncio.run(_build(settings, size))
    tokens = figures.pop("_tokens")
    media_bytes = min(1 << 30, size * 10_738)  # 1 GiB at full size
    writer = bootstrap(settings).blobs.writer(1 << 31)
    chunk = os.urandom(1 << 20)
    for _block in range(media_bytes // len(chunk)):
        writer.write(chunk)
    media_sha = writer.finish().sha256
    with served(data_dir) as server:
        rss_before = _rss_kb(server.pid)
        seconds = 5 if size >= 10_000 else 1
        figures |= asyncio.run(_over_http(server.port, tokens, media_sha, seconds))
        figures["server_rss_growth_mb"] = round((_rss_kb(server.pid) - rss_before) / 1024, 1)
    return {
        "bench": "manifests",
        **figures,
        "targets": {
            "build_all_s": 10,
            "publish_rebuild_s": 1,
            "manifest_304_rps": 2000,
            "media_mb_s": 500,
            "server_rss_growth_mb": 50,
        },
    }
