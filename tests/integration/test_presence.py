import asyncio
from datetime import timedelta

import pytest

from lianbo.services.presence import Beat, ingest, sweep_offline
from tests.support.env import Env
from tests.support.waiting import blocked_behind, until

pytestmark = pytest.mark.integration


async def enrolled(env: Env, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    created = await env.terminal(headers)
    body = (
        await env.client.post("/terminal/v1/enrol", json={"code": created["enrolment_code"]})
    ).json()
    return created["id"], {"Authorization": f"Bearer {body['token']}"}


async def test_heartbeats_bring_a_screen_online_and_silence_takes_it_offline(env: Env) -> None:
    admin = await env.as_role()
    terminal_id, screen = await enrolled(env, admin)
    reply = await env.client.post("/terminal/v1/heartbeat", headers=screen)
    assert reply.status_code == 200 and reply.json()["heartbeat_seconds"] == 30
    shown = (await env.client.get(f"/api/v1/terminals/{terminal_id}", headers=admin)).json()
    assert shown["status"] == "online" and shown["last_seen_at"] is not None

    hold_off = timedelta(seconds=60)
    env.clock.advance(seconds=59)
    async with env.container.uow() as uow:
        assert await sweep_offline(uow, env.clock, hold_off) == []
    env.clock.advance(seconds=2)
    async with env.container.uow() as uow:
        assert await sweep_offline(uow, env.clock, hold_off) == [terminal_id]
    async with env.container.uow() as uow:
        assert await sweep_offline(uow, env.clock, hold_off) == []  # logged once
    shown = (await env.client.get(f"/api/v1/terminals/{terminal_id}", headers=admin)).json()
    assert shown["status"] == "offline"

    await env.client.post("/terminal/v1/heartbeat", headers=screen)
    shown = (await env.client.get(f"/api/v1/terminals/{terminal_id}", headers=admin)).json()
    assert shown["status"] == "online"


async def test_a_bad_or_retired_token_is_refused(env: Env) -> None:
    admin = await env.as_role()
    terminal_id, screen = await enrolled(env, admin)
    bad = await env.client.post("/terminal/v1/heartbeat", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    await env.client.post(f"/api/v1/terminals/{terminal_id}/retire", headers=admin)
    assert (await env.client.post("/terminal/v1/heartbeat", headers=screen)).status_code == 401
    shown = (await env.client.get(f"/api/v1/terminals/{terminal_id}?", headers=admin)).json()
    assert shown["status"] == "retired"


async def test_a_heartbeat_keeps_the_latest_status_report(env: Env) -> None:
    admin = await env.as_role()
    terminal_id, screen = await enrolled(env, admin)
    first = {"manifest_version": "v1", "clock_offset_ms": 12.5, "backend": "headless"}
    assert (await env.client.post("/terminal/v1/heartbeat", headers=screen, json=first)).is_success
    env.clock.advance(seconds=30)
    second = {**first, "manifest_version": "v2"}
    assert (await env.client.post("/terminal/v1/heartbeat", headers=screen, json=second)).is_success
    async with env.container.uow() as uow:
        report = await uow.reports.latest(terminal_id)
    assert report is not None and report.status == second
    assert report.reported_at == env.clock.now()


@pytest.mark.parametrize("body", [b"[1, 2]", b"not json", b'"text"', b"{" + b" " * 20000 + b"}"])
async def test_a_bad_status_report_is_refused_and_stores_nothing(env: Env, body: bytes) -> None:
    admin = await env.as_role()
    terminal_id, screen = await enrolled(env, admin)
    reply = await env.client.post("/terminal/v1/heartbeat", headers=screen, content=body)
    assert reply.status_code in (400, 413) and "error" in reply.json()
    async with env.container.uow() as uow:
        assert await uow.reports.latest(terminal_id) is None


async def test_an_older_status_report_never_replaces_a_newer_one(env: Env) -> None:
    # A screen that moved to another server process: that process's batch
    # holding the older report is flushed after the newer one.
    admin = await env.as_role()
    terminal_id, _ = await enrolled(env, admin)
    now = env.clock.now()
    async with env.container.uow() as uow:
        await uow.reports.save([(terminal_id, now, {"manifest_version": "new"})])
        await uow.commit()
    async with env.container.uow() as uow:
        earlier = now - timedelta(seconds=30)
        await uow.reports.save(
            [(terminal_id, earlier, {"manifest_version": "old"}), (terminal_id, earlier, {})]
        )
        await uow.commit()
    async with env.container.uow() as uow:
        report = await uow.reports.latest(terminal_id)
    assert report is not None and report.status == {"manifest_version": "new"}


async def test_two_writers_of_one_screens_report_both_commit(env: Env) -> None:
    # Two server processes flush a report for the same screen at once: the
    # second waits for the first and keeps the newer, never a key error.
    admin = await env.as_role()
    terminal_id, _ = await enrolled(env, admin)
    now = env.clock.now()
    first = env.container.uow()
    async with first:
        await first.reports.save([(terminal_id, now, {"manifest_version": "a"})])

        async def second_writer() -> None:
            async with env.container.uow() as uow:
                later = now + timedelta(seconds=1)
                await uow.reports.save([(terminal_id, later, {"manifest_version": "b"})])
                await uow.commit()

        second = asyncio.create_task(second_writer())
        await until(lambda: blocked_behind(env, second), "the second writer waits on the first")
        await first.commit()
    await second
    async with env.container.uow() as uow:
        report = await uow.reports.latest(terminal_id)
    assert report is not None and report.status == {"manifest_version": "b"}


async def test_heartbeat_batches_naming_screens_in_other_orders_never_deadlock(env: Env) -> None:
    # Two processes flush batches holding the same two screens: one (the
    # "other" transaction here) touches a then b, this one b then a.
    admin = await env.as_role()
    ids = sorted([(await enrolled(env, admin))[0] for _ in range(2)])
    low, high = ids
    now = env.clock.now()
    async with env.container.uow() as uow:  # both online: only last-seen moves
        await ingest(uow, [Beat(low, now), Beat(high, now)])
    later, latest = now + timedelta(seconds=1), now + timedelta(seconds=2)
    other = env.container.uow()
    async with other:
        await other.terminals.mark_seen([low], now)

        async def batch() -> None:
            async with env.container.uow() as uow:
                await ingest(uow, [Beat(high, later), Beat(low, latest)])

        flushing = asyncio.create_task(batch())
        await until(lambda: blocked_behind(env, flushing), "the batch waits on the other")
        await other.terminals.mark_seen([high], now)  # a deadlock would abort one here
        await other.commit()
    await flushing
    async with env.container.uow() as uow:
        seen = {t: (await uow.terminals.get(t)).last_seen_at for t in ids}  # type: ignore[union-attr]
    assert seen == {low: latest, high: later}
