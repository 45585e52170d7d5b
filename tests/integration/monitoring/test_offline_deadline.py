"""Offline alarms at the hold-off: the sweeper wakes at the earliest deadline."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

import pytest

from lianbo.domain.monitoring.alarms import AlarmType
from lianbo.domain.monitoring.deadlines import MARGIN
from lianbo.services import monitoring_jobs
from lianbo.services.monitoring import Monitor
from tests.integration.monitoring.helpers import screen
from tests.support.env import Env
from tests.support.waiting import Naps, until

pytestmark = pytest.mark.integration


async def test_the_running_sweeper_alarms_at_the_hold_off_not_a_sweep_later(env: Env) -> None:
    admin = await env.as_role()
    terminal_id, headers = await screen(env, admin)
    monitor = env.container.monitor
    hold_off = monitor.hold_off
    naps = Naps()  # the sweeper's waits: the test moves the fake clock by what it asks
    job = asyncio.create_task(monitoring_jobs.run(env.container, sweeper_sleep=naps))
    try:
        _, woken = await naps.next()  # swept once (nobody online), now waiting
        assert monitor.batching
        reply = await env.client.post("/terminal/v1/heartbeat", headers=headers)
        assert reply.status_code == 200, reply.text
        last_beat = datetime.fromisoformat(reply.json()["server_time"])
        await until(lambda: monitor.deadlines.last_seen(terminal_id) is not None, "the flush")
        assert monitor.deadlines.last_seen(terminal_id) == last_beat
        env.clock.current = last_beat + hold_off - timedelta(seconds=1.5)
        # Let the sweeper's time pass as it asks: never offline before the
        # hold-off, then offline at the first sweep after it.
        sweeps = []
        while not monitor.desk.live(terminal_id, AlarmType.OFFLINE):
            assert len(sweeps) < 10, f"no alarm after sweeps at {sweeps}"
            woken.set_result(None)
            seconds, woken = await naps.next()  # the sweep after that wake is done
            sweeps.append(env.clock.now())
            env.clock.advance(seconds=seconds)
        seen_at = sweeps[-1]
    finally:
        job.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await job
    assert all(at - last_beat <= hold_off for at in sweeps[:-1])  # none found it early
    assert hold_off < seen_at - last_beat <= hold_off + MARGIN  # the deadline, not a sweep later
    alarms = (
        await env.client.get("/api/v1/alarms", params={"terminal_id": terminal_id}, headers=admin)
    ).json()["items"]
    assert [(a["type"], a["state"]) for a in alarms] == [("offline", "open")]
    opened = datetime.fromisoformat(alarms[0]["opened_at"])
    assert opened == seen_at
    async with env.container.uow() as uow:
        found = await uow.terminals.get(terminal_id)
        log = await uow.monitoring.transitions("51", "", None, opened + timedelta(hours=1))
    assert found is not None and found.status.value == "offline"
    down = [at for tid, _, _, state, at in log if tid == terminal_id and state == "offline"]
    assert down == [seen_at]


async def test_the_deadline_follows_the_latest_heartbeat(env: Env) -> None:
    admin = await env.as_role()
    monitor = env.container.monitor
    _, first_headers = await screen(env, admin)
    second, second_headers = await screen(env, admin)
    await env.client.post("/terminal/v1/heartbeat", headers=first_headers)
    beat = env.clock.now()
    env.clock.advance(seconds=10)
    await env.client.post("/terminal/v1/heartbeat", headers=second_headers)
    assert monitor.deadlines.next_deadline() == beat + monitor.hold_off
    env.clock.advance(seconds=20)
    await env.client.post("/terminal/v1/heartbeat", headers=first_headers)  # first beats again
    assert monitor.deadlines.next_deadline() == beat + timedelta(seconds=10) + monitor.hold_off
    env.clock.current = beat + timedelta(seconds=10) + monitor.hold_off - timedelta(seconds=0.4)
    assert await monitor.sweep() == []
    wake = monitor.next_sweep_at()
    assert wake == beat + timedelta(seconds=10) + monitor.hold_off + MARGIN
    env.clock.current = wake
    assert await monitor.sweep() == [second]
    assert await monitor.sweep() == []  # logged once


async def test_after_a_restart_the_schedule_comes_from_the_store(env: Env) -> None:
    admin = await env.as_role()
    terminal_id, headers = await screen(env, admin)
    await env.client.post("/terminal/v1/heartbeat", headers=headers)
    beat = env.clock.now()
    restarted = Monitor(env.container.settings, env.clock, env.container.uow)  # knows nothing
    assert restarted.deadlines.next_deadline() is None
    env.clock.current = beat + restarted.hold_off - timedelta(seconds=0.3)
    assert await restarted.sweep() == []  # the first sweep reads the store's online screens
    assert restarted.next_sweep_at() == beat + restarted.hold_off + MARGIN
    env.clock.current = restarted.next_sweep_at()
    assert await restarted.sweep() == [terminal_id]
    assert restarted.desk.live(terminal_id, AlarmType.OFFLINE)


async def test_a_retired_screen_drops_out_of_the_schedule(env: Env) -> None:
    admin = await env.as_role()
    monitor = env.container.monitor
    terminal_id, headers = await screen(env, admin)
    await env.client.post("/terminal/v1/heartbeat", headers=headers)
    retired = await env.client.post(f"/api/v1/terminals/{terminal_id}/retire", headers=admin)
    assert retired.status_code == 200
    env.clock.advance(seconds=monitor.hold_off.total_seconds() + 1)
    assert await monitor.sweep() == []  # retired: the store never calls it offline
    assert monitor.deadlines.next_deadline() is None
    assert not monitor.desk.live(terminal_id, AlarmType.OFFLINE)
