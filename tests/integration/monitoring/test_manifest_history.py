"""Plays are judged by the manifest in force at their moment (ADR 0006):
publishing a schedule whose start is in the past does not rewrite history."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from lianbo.domain.roles import Role
from tests.integration.monitoring.helpers import image_asset, scheduled, screen, uploaded
from tests.support.content import png
from tests.support.env import Env

pytestmark = pytest.mark.integration

PLAY_S = 15


def play(sha256: str, start: datetime, schedule_id: str) -> dict[str, Any]:
    end = start + timedelta(seconds=PLAY_S)
    return {
        "sha256": sha256,
        "schedule_id": schedule_id,
        "started_at": start.isoformat(),
        "ended_at": end.isoformat(),
    }


async def publish_public(env: Env, operator: dict[str, str], asset_id: str, since: datetime) -> str:
    """A ``public`` schedule (it beats ``local``) of ``asset_id`` on 510107
    starting at ``since`` (in the past), published now."""
    listed = await env.client.post(
        "/api/v1/playlists",
        json={"name": "公益", "items": [{"asset_id": asset_id, "duration_ms": PLAY_S * 1000}]},
        headers=operator,
    )
    assert listed.status_code == 201, listed.text
    body = {
        "name": "公益广告",
        "playlist_id": listed.json()["id"],
        "targets": {"regions": ["510107"]},
        "starts_at": since.isoformat(),
        "ends_at": (env.clock.now() + timedelta(days=2)).isoformat(),
        "priority": "public",
    }
    created = await env.client.post("/api/v1/schedules", json=body, headers=operator)
    assert created.status_code == 201, created.text
    schedule_id = str(created.json()["id"])
    published = await env.client.post(f"/api/v1/schedules/{schedule_id}/publish", headers=operator)
    assert published.status_code == 200, published.text
    return schedule_id


async def post(env: Env, headers: dict[str, str], entries: list[dict[str, Any]]) -> Any:
    answer = await env.client.post(
        "/terminal/v1/playlog", json={"entries": entries}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def alarms(env: Env, admin: dict[str, str], terminal_id: str) -> list[tuple[str, str]]:
    found = await env.client.get(
        "/api/v1/alarms", params={"terminal_id": terminal_id}, headers=admin
    )
    return [(a["type"], a["state"]) for a in found.json()["items"]]


def at_twenty_past(env: Env) -> datetime:
    """Move the clock to 20 past the hour (a manifest starts on the hour)."""
    now = env.clock.now().replace(minute=20, second=0, microsecond=0)
    env.clock.current = now
    return now


async def test_a_past_start_publish_does_not_make_earlier_plays_unauthorised(env: Env) -> None:
    t0 = at_twenty_past(env)
    admin = await env.as_role()
    operator = await env.as_role(Role.OPERATOR, "5101")
    local = await image_asset(env, operator)
    public = await uploaded(env, operator, png(), "公益.png")
    terminal_id, headers = await screen(env, admin)
    first = await scheduled(env, operator, local["id"], PLAY_S * 1000)  # in force from t0
    env.clock.advance(minutes=10)
    # The screen played the local programme from t0 on, correctly; then, at
    # t0 + 10 min, a public schedule that began two hours ago is published.
    played = [
        play(local["sha256"], t0 + timedelta(minutes=1, seconds=PLAY_S * k), first)
        for k in range(20)
    ]
    second = await publish_public(env, operator, public["id"], t0 - timedelta(hours=2))
    answer = await post(env, headers, played)
    assert (answer["accepted"], answer["unauthorised"]) == (20, [])
    assert await alarms(env, admin, terminal_id) == []
    # What the schedule did not allow at its moment still alarms: the public
    # asset before it was published, and the local one after.
    env.clock.advance(minutes=2)
    early = play(public["sha256"], t0 + timedelta(minutes=7), second)
    late = play(local["sha256"], env.clock.now() - timedelta(seconds=30), first)
    answer = await post(env, headers, [early, late])
    assert [u["index"] for u in answer["unauthorised"]] == [0, 1]
    assert ("unauthorised-content", "open") in await alarms(env, admin, terminal_id)


async def test_plays_after_the_publish_follow_the_new_schedule(env: Env) -> None:
    t0 = at_twenty_past(env)
    admin = await env.as_role()
    operator = await env.as_role(Role.OPERATOR, "5101")
    local = await image_asset(env, operator)
    public = await uploaded(env, operator, png(), "公益.png")
    terminal_id, headers = await screen(env, admin)
    await scheduled(env, operator, local["id"], PLAY_S * 1000)
    env.clock.advance(minutes=10)
    second = await publish_public(env, operator, public["id"], t0 - timedelta(hours=2))
    env.clock.advance(minutes=5)
    now = env.clock.now()
    after = [
        play(public["sha256"], now - timedelta(seconds=PLAY_S * k), second) for k in range(2, 12)
    ]
    answer = await post(env, headers, after)
    assert (answer["accepted"], answer["unauthorised"]) == (10, [])
    assert await alarms(env, admin, terminal_id) == []


async def test_superseded_versions_go_with_the_play_log_retention(env: Env) -> None:
    t0 = at_twenty_past(env)
    admin = await env.as_role()
    operator = await env.as_role(Role.OPERATOR, "5101")
    local = await image_asset(env, operator)
    public = await uploaded(env, operator, png(), "公益.png")
    await screen(env, admin)
    await scheduled(env, operator, local["id"], PLAY_S * 1000)
    env.clock.advance(minutes=10)
    await publish_public(env, operator, public["id"], t0 - timedelta(hours=2))

    async def kept() -> list[tuple[datetime, datetime]]:
        async with env.container.uow() as uow:
            keys = await uow.terminals.audiences()
            return [
                (v.in_force_from, v.in_force_until)
                for key in keys
                for v in await uow.history.versions(key, t0 - timedelta(days=1), env.clock.now())
            ]

    assert await kept() == [(t0, t0 + timedelta(minutes=10))]
    days = env.container.settings.playlog_retention_days
    env.clock.advance(days=days - 1)
    await env.container.monitor.enforce_retention()
    assert len(await kept()) == 1  # still inside the retention
    env.clock.advance(days=1, minutes=1)
    await env.container.monitor.enforce_retention()
    assert await kept() == []
