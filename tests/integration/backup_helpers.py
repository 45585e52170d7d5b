"""Helpers for the backup tests: a deployment on air, an empty restore target."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

from lianbo.config import Settings
from lianbo.domain.roles import Role
from tests.support.content import approved_asset, png
from tests.support.env import Env

_targets = itertools.count(1)


async def empty_target(env: Env, tmp_path: Path) -> Settings:
    """An empty data dir, and on PostgreSQL an empty database beside the test's."""
    data_dir = tmp_path / f"restored-{next(_targets)}"
    url = env.container.settings.database_url
    if url is None:
        return Settings(data_dir=data_dir)
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = f"{parsed.database}_restored_{next(_targets)}"
    admin = await asyncpg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, database="postgres"
    )
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    return Settings(data_dir=data_dir, database_url=parsed.set(database=name).render_as_string())


async def screen(env: Env, admin: dict[str, str]) -> tuple[str, dict[str, str]]:
    created = await env.terminal(admin, region="510107")
    body = (
        await env.client.post("/terminal/v1/enrol", json={"code": created["enrolment_code"]})
    ).json()
    return created["id"], {"Authorization": f"Bearer {body['token']}"}


async def on_air(env: Env) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """A published schedule on a screen that has sent a screenshot."""
    admin = await env.as_role(Role.ADMIN, "51")
    operator = await env.as_role(Role.OPERATOR, "5101")
    asset = await approved_asset(env, operator)
    playlist = await env.client.post(
        "/api/v1/playlists",
        json={"name": "晚间", "items": [{"asset_id": asset["id"], "duration_ms": 15000}]},
        headers=operator,
    )
    now = env.clock.now()
    schedule = await env.client.post(
        "/api/v1/schedules",
        json={
            "name": "新闻联播",
            "playlist_id": playlist.json()["id"],
            "targets": {"regions": ["510107"]},
            "starts_at": (now - timedelta(days=365)).isoformat(),
            "ends_at": (now + timedelta(days=365)).isoformat(),
            "priority": "local",
        },
        headers=operator,
    )
    assert schedule.status_code == 201, schedule.text
    published = await env.client.post(
        f"/api/v1/schedules/{schedule.json()['id']}/publish", headers=operator
    )
    assert published.status_code == 200, published.text
    _, token = await screen(env, admin)
    shot = await env.client.post(
        "/terminal/v1/screenshot",
        files={"file": ("shot.png", png(), "application/octet-stream")},
        data={"taken_at": now.isoformat()},
        headers=token,
    )
    assert shot.status_code == 200, shot.text
    return admin, operator, token


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
