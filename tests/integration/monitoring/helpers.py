"""Factories for the monitoring API tests: screens, scheduled content, moments."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lianbo.domain.roles import Role
from lianbo.protocol.manifest import parse_time
from tests.support.content import png, upload
from tests.support.env import Env

CLIP_MS = 5000


async def screen(env: Env, admin: dict[str, str], **fields: Any) -> tuple[str, dict[str, str]]:
    """A terminal created and enrolled; (id, its bearer headers)."""
    created = await env.terminal(admin, **fields)
    body = (
        await env.client.post("/terminal/v1/enrol", json={"code": created["enrolment_code"]})
    ).json()
    return created["id"], {"Authorization": f"Bearer {body['token']}"}


async def approve(env: Env, operator: dict[str, str], asset_id: str) -> None:
    """Take an asset through the three review levels."""
    url = f"/api/v1/assets/{asset_id}"
    await env.client.post(f"{url}/submit", headers=operator)
    for _ in range(3):
        reviewer = await env.as_role(Role.REVIEWER, "51")
        answer = await env.client.post(
            f"{url}/review", json={"decision": "approve"}, headers=reviewer
        )
        assert answer.status_code == 200, answer.text


async def uploaded(
    env: Env, operator: dict[str, str], data: bytes, name: str, approved: bool = True
) -> dict[str, Any]:
    response = await upload(env, operator, data, name)
    assert response.status_code == 201, response.text
    asset: dict[str, Any] = response.json()
    if approved:
        await approve(env, operator, asset["id"])
    return asset


async def scheduled(
    env: Env, operator: dict[str, str], asset_id: str, duration_ms: int = CLIP_MS
) -> str:
    """A playlist of ``asset_id`` published on 510107 from an hour ago for days."""
    listed = await env.client.post(
        "/api/v1/playlists",
        json={"name": "监测", "items": [{"asset_id": asset_id, "duration_ms": duration_ms}]},
        headers=operator,
    )
    assert listed.status_code == 201, listed.text
    now = env.clock.now()
    body = {
        "name": "监测节目",
        "playlist_id": listed.json()["id"],
        "targets": {"regions": ["510107"]},
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=3)).isoformat(),
        "priority": "local",
    }
    created = await env.client.post("/api/v1/schedules", json=body, headers=operator)
    assert created.status_code == 201, created.text
    schedule_id = str(created.json()["id"])
    published = await env.client.post(f"/api/v1/schedules/{schedule_id}/publish", headers=operator)
    assert published.status_code == 200, published.text
    return schedule_id


async def origin_of(env: Env, headers: dict[str, str]) -> datetime:
    """Where position 0 of the screen's current timeline entry lies."""
    envelope = json.loads((await env.client.get("/terminal/v1/manifest", headers=headers)).text)
    now = env.clock.now()
    for entry in envelope["manifest"]["timeline"]:
        if parse_time(entry["start"]) <= now < parse_time(entry["end"]) and entry["playlist_id"]:
            return parse_time(entry["origin"])
    raise AssertionError("nothing scheduled now")


def moment(origin: datetime, now: datetime, second: int, length_ms: int = CLIP_MS) -> datetime:
    """A time shortly before ``now`` when the clip is ``second`` + 0.5 s in."""
    length = timedelta(milliseconds=length_ms)
    loops = (now - timedelta(seconds=20) - origin) // length
    return origin + loops * length + timedelta(seconds=second + 0.5)


async def set_track(env: Env, asset_id: str, track: list[int]) -> None:
    """Store a pHash track as the analyser would (QC does not run in these tests)."""
    async with env.container.uow() as uow:
        await uow.assets.set_qc(asset_id, phash_track=b"".join(h.to_bytes(8, "big") for h in track))
        await uow.commit()


async def clip_asset(
    env: Env, operator: dict[str, str], path: Path, track: list[int]
) -> dict[str, Any]:
    data = await asyncio.to_thread(path.read_bytes)
    asset = await uploaded(env, operator, data, "scenes.mp4")
    await set_track(env, asset["id"], track)
    return asset


async def image_asset(env: Env, operator: dict[str, str]) -> dict[str, Any]:
    return await uploaded(env, operator, png(), "海报.png")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)
