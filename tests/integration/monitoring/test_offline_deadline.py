"""Offline alarms at the hold-off: the sweeper wakes at the earliest deadline."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime, timedelta

import pytest

from lianbo.domain.monitoring.alarms import AlarmType
from lianbo.domain.monitoring.deadlines import MARGIN
from lianbo.services import monitoring_jobs
from lianbo.services.monitoring import Monitor
from tests.integration.monitoring.helpers import screen
from tests.support.env import Env

pytestmark = pytest.mark.integration

SLACK = timedelta(seconds=0.1)  # processing time allowed after the hold-off


class RunningClock:
    """Real time from a start, which the test can jump forward (the fake
    clock's ``now`` is swapped for this, so the whole container sees it)."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.started = time.monotonic()
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.started) + self.offset

    def jump_to(self, moment: datetime) -> None:
        self.offset += moment - self.now()


async def until(condition: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


async def test_the_running_sweeper_alarms_at_the_hold_off_not_a_sweep_later(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await env.as_role()
    terminal_id, headers = await screen(env, admin)
    monitor = env.container.monitor
    clock = RunningClock(env.clock.now())
    monkeypatch.setattr(env.clock, "now", clock.now)
    hold_off = monitor.hold_off
    job = asyncio.create_task(monitoring_jobs.run(env.container))  # the server's background job
    try:
        await until(lambda: monitor.batching)
        reply = await env.client.post("/terminal/v1/heartbeat", headers=headers)
        assert reply.status_code == 200, reply.text
        last_beat = datetime.fromisoformat(reply.json()["server_time"])
        await until(lambda: monitor.deadlines.last_seen(terminal_id) is not None)  # flushed
        assert monitor.deadlines.last_seen(terminal_id) == last_beat
        clock.jump_to(last_beat + hold_off - timedelta(seconds=1.5))
        # Watch continuously: never offline before the hold-off, then soon after.
        while not monitor.desk.live(terminal_id, AlarmType.OFFLINE):
            now = clock.now()
            assert now - last_beat <= hold_off + 2 * SLACK, "no alarm after the hold-off"
            await asyncio.sleep(0.002)
        seen_at = clock.now()
    finally:
        job.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await job
    assert hold_off < seen_at - last_beat <= hold_off + SLACK
    alarms = (
        await env.client.get("/api/v1/alarms", params={"terminal_id": terminal_id}, headers=admin)
    ).json()["items"]
    assert [(a["type"], a["state"]) for a in alarms] == [("offline", "open")]
    opened = datetime.fromisoformat(alarms[0]["opened_at"])
    assert hold_off < opened - last_beat <= hold_off + SLACK
    async with env.container.uow() as uow:
        found = await uow.terminals.get(terminal_id)
        log = await uow.monitoring.transitions("51", "", None, opened + timedelta(hours=1))
    assert found is not None and found.status.value == "offline"
    down = [at for tid, _, _, state, at in log if tid == terminal_id and state == "offline"]
    assert len(down) == 1 and hold_off < down[0] - last_beat <= hold_off + SLACK


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
