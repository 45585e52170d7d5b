"""Heartbeats: batched ingest, rate limit, offline/recovered alarms, uptime."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from lianbo.domain.roles import Role
from tests.integration.monitoring.helpers import screen
from tests.support.env import Env

pytestmark = pytest.mark.integration


async def alarms_of(env: Env, headers: dict[str, str], **query: str) -> list[dict[str, Any]]:
    response = await env.client.get("/api/v1/alarms", params=query, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_heartbeats_are_batched_and_the_reply_does_not_wait(env: Env) -> None:
    admin = await env.as_role()
    monitor = env.container.monitor
    monitor.batching = True  # as while the server's flusher runs
    screens = [await screen(env, admin) for _ in range(3)]
    for _, headers in screens:
        reply = await env.client.post(
            "/terminal/v1/heartbeat", headers=headers, json={"push": "polling"}
        )
        assert reply.status_code == 200 and reply.json()["heartbeat_seconds"] == 30
    async with env.container.uow() as uow:
        assert await uow.reports.latest(screens[0][0]) is None  # not flushed yet
    assert len(monitor.batcher.pending) == 3
    assert await monitor.flush() == 3
    async with env.container.uow() as uow:
        stored = await uow.reports.of([t for t, _ in screens])
        found = await uow.terminals.get(screens[0][0])
    assert set(stored) == {t for t, _ in screens}
    assert found is not None and found.status.value == "online"
    assert await monitor.flush() == 0


async def test_a_flood_from_one_terminal_is_rate_limited_not_stored(env: Env) -> None:
    admin = await env.as_role()
    monitor = env.container.monitor
    monitor.batching = True
    _, headers = await screen(env, admin)
    answers = [
        (
            await env.client.post("/terminal/v1/heartbeat", headers=headers, json={"n": n})
        ).status_code
        for n in range(50)
    ]
    assert answers.count(200) == 3  # the burst a reconnect may send
    assert answers.count(429) == 47
    limited = await env.client.post("/terminal/v1/heartbeat", headers=headers)
    assert limited.json()["error"]["code"] == "rate_limited"
    assert len(monitor.batcher.pending) == 3
    env.clock.advance(seconds=2)
    assert (await env.client.post("/terminal/v1/heartbeat", headers=headers)).status_code == 200
    _, other = await screen(env, admin)  # another screen is not held back
    assert (await env.client.post("/terminal/v1/heartbeat", headers=other)).status_code == 200


async def test_offline_within_the_hold_off_and_recovered_after(env: Env) -> None:
    admin = await env.as_role()
    monitor = env.container.monitor
    terminal_id, headers = await screen(env, admin, tier="outdoor")
    assert (await env.client.post("/terminal/v1/heartbeat", headers=headers)).status_code == 200
    env.clock.advance(seconds=59)
    assert await monitor.sweep() == []
    env.clock.advance(seconds=2)  # two missed 30 s heartbeats
    assert await monitor.sweep() == [terminal_id]
    assert await monitor.sweep() == []  # logged once
    opened = await alarms_of(env, admin, terminal_id=terminal_id)
    assert [(a["type"], a["state"], a["severity"]) for a in opened] == [
        ("offline", "open", "critical")
    ]
    assert opened[0]["region"] == "510107" and opened[0]["tier"] == "outdoor"

    env.clock.advance(seconds=30)
    await env.client.post("/terminal/v1/heartbeat", headers=headers)  # back
    shown = (await env.client.get(f"/api/v1/terminals/{terminal_id}", headers=admin)).json()
    assert shown["status"] == "online"
    assert (await alarms_of(env, admin, terminal_id=terminal_id))[0]["state"] == "open"
    for _ in range(3):  # flap suppression: resolved once clear for 60 s
        env.clock.advance(seconds=30)
        await env.client.post("/terminal/v1/heartbeat", headers=headers)
    resolved = await alarms_of(env, admin, terminal_id=terminal_id)
    assert [(a["type"], a["state"], a["resolved_by"]) for a in resolved] == [
        ("offline", "resolved", "system")
    ]
    uptime = await env.client.get(
        "/api/v1/reports/uptime",
        params={
            "from": (env.clock.now() - timedelta(hours=2)).isoformat(),
            "to": env.clock.now().isoformat(),
            "group_by": "tier",
        },
        headers=admin,
    )
    assert uptime.status_code == 200, uptime.text
    cells = [c for c in uptime.json()["items"] if c["known_s"]]
    assert cells and all(c["key"] == "outdoor" for c in cells)
    assert 0 < min(c["uptime"] for c in cells) < 1  # it was down for a while


async def test_clock_drift_and_storage_low_from_status_reports(env: Env) -> None:
    admin = await env.as_role()
    terminal_id, headers = await screen(env, admin, tier="hall")
    status = {
        "clock_offset_ms": 9000,
        "cache": {"bytes": 10, "budget": 100, "files": 1, "failures": {"a" * 64: "storage full"}},
    }
    for _ in range(4):
        await env.client.post("/terminal/v1/heartbeat", headers=headers, json=status)
        env.clock.advance(seconds=30)
    found = {a["type"]: a for a in await alarms_of(env, admin, terminal_id=terminal_id)}
    assert set(found) == {"clock-drift", "storage-low"}
    assert found["clock-drift"]["evidence"]["clock_offset_ms"] == 9000
    assert found["clock-drift"]["count"] >= 1


async def test_alarms_are_filtered_by_jurisdiction(env: Env) -> None:
    admin = await env.as_role()
    terminal_id, headers = await screen(env, admin, region="510107")
    await env.client.post("/terminal/v1/heartbeat", headers=headers)
    env.clock.advance(seconds=61)
    await env.container.monitor.sweep()
    inside = await env.as_role(Role.MONITOR, "510107")
    outside = await env.as_role(Role.MONITOR, "510104")
    assert [a["terminal_id"] for a in await alarms_of(env, inside)] == [terminal_id]
    assert await alarms_of(env, outside) == []
    assert await alarms_of(env, inside, region="510104") == []
    assert len(await alarms_of(env, inside, state="open", type="offline")) == 1
    bad = await env.client.get("/api/v1/alarms", params={"state": "sleeping"}, headers=inside)
    assert bad.status_code in (400, 422)


@pytest.mark.parametrize("body", [b"[1]", b"not json", b"{" + b" " * 20000 + b"}"])
async def test_a_known_screen_with_a_bad_status_gets_the_routes_answer(
    env: Env, body: bytes
) -> None:
    admin = await env.as_role()
    terminal_id, headers = await screen(env, admin)
    assert (await env.client.post("/terminal/v1/heartbeat", headers=headers)).status_code == 200
    env.clock.advance(seconds=30)  # caches warm: the fast path sees this one first
    reply = await env.client.post("/terminal/v1/heartbeat", headers=headers, content=body)
    assert reply.status_code in (400, 413) and "error" in reply.json()
    good = await env.client.post("/terminal/v1/heartbeat", headers=headers, json={"push": "x"})
    assert good.status_code == 200 and good.json()["audience"]["region"] == "510107"
    async with env.container.uow() as uow:
        report = await uow.reports.latest(terminal_id)
    assert report is not None and report.status == {"push": "x"}
