"""Monitoring with more than one process on one store (ADR 0011): the store,
not a process's memory, keeps one live alarm per screen and type and one
presence transition per change; a new leader's sweeper gives every screen
one hold-off from the takeover. A second "process" is a second container
(its own engine and connections) with its own ``Monitor``; fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from lianbo.bootstrap import Container, bootstrap
from lianbo.domain.monitoring.alarms import AlarmType
from lianbo.services.alarms import observation
from tests.integration.monitoring.helpers import screen
from tests.support.env import Env

pytestmark = pytest.mark.integration


@pytest.fixture
async def other(env: Env) -> AsyncIterator[Container]:
    """A second process on the same store and clock."""
    container = bootstrap(env.container.settings, clock=env.clock)
    yield container
    await container.close()


async def beat(env: Env, headers: dict[str, str]) -> None:
    reply = await env.client.post("/terminal/v1/heartbeat", headers=headers)
    assert reply.status_code == 200, reply.text


async def live_alarms(env: Env, terminal_id: str) -> list[str]:
    async with env.container.uow() as uow:
        return [a.id for a in await uow.alarms.live() if a.terminal_id == terminal_id]


async def transitions(env: Env, terminal_id: str) -> list[str]:
    async with env.container.uow() as uow:
        found = await uow.monitoring.transitions("", "", None, env.clock.now() + timedelta(days=1))
    return [state for tid, _, _, state, _ in found if tid == terminal_id]


async def test_two_processes_opening_the_same_alarm_leave_one_alarm_and_one_webhook(
    env: Env, other: Container
) -> None:
    admin = await env.as_role()
    terminal_id, _ = await screen(env, admin)
    desks = [env.container.monitor.desk, other.monitor.desk]
    for desk in desks:  # both books loaded before either opens it: neither knows
        await desk.adopt([], AlarmType.OFFLINE)
        desk.outbox.urls = ["http://127.0.0.1:9/hook"]
    found = observation(terminal_id, AlarmType.OFFLINE, True, "outdoor")
    opened = await asyncio.gather(*(d.observe([found], {terminal_id: "51"}) for d in desks))
    assert sorted(len(o) for o in opened) == [0, 1]  # what each stored and notified
    assert len(await live_alarms(env, terminal_id)) == 1
    [alarm_id] = await live_alarms(env, terminal_id)
    assert all(d.ids[(terminal_id, AlarmType.OFFLINE)] == alarm_id for d in desks)
    async with env.container.uow() as uow:
        assert (await uow.webhooks.counts())["pending"] == 1  # one webhook, in the store


async def test_two_sweepers_write_one_offline_transition(env: Env, other: Container) -> None:
    admin = await env.as_role()
    terminal_id, headers = await screen(env, admin)
    await beat(env, headers)
    env.clock.advance(seconds=env.container.monitor.hold_off.total_seconds() + 1)
    monitors = [env.container.monitor, other.monitor]
    gone = await asyncio.gather(*(m.sweep() for m in monitors))
    assert sorted(gone) == [[], [terminal_id]]
    assert await transitions(env, terminal_id) == ["online", "offline"]
    assert len(await live_alarms(env, terminal_id)) == 1


async def offline_screen(env: Env) -> str:
    """A screen the leader (``env``'s process) found offline, with its alarm."""
    admin = await env.as_role()
    terminal_id, headers = await screen(env, admin)
    await beat(env, headers)
    env.clock.advance(seconds=env.container.monitor.hold_off.total_seconds() + 1)
    assert await env.container.monitor.sweep() == [terminal_id]
    env.clock.advance(seconds=5)
    return terminal_id


async def test_a_heartbeat_handled_by_two_processes_writes_one_online_transition(
    env: Env, other: Container
) -> None:
    terminal_id = await offline_screen(env)
    monitors = [env.container.monitor, other.monitor]
    await asyncio.gather(*(m.heartbeat(terminal_id, None) for m in monitors))
    assert await transitions(env, terminal_id) == ["online", "offline", "online"]


async def test_a_screen_back_on_another_process_resolves_the_leaders_alarm(
    env: Env, other: Container
) -> None:
    terminal_id = await offline_screen(env)
    await other.monitor.desk.adopt([], AlarmType.OFFLINE)  # its book predates the alarm
    await other.monitor.heartbeat(terminal_id, None)  # back, on a process that did not see it
    assert other.monitor.desk.live(terminal_id, AlarmType.OFFLINE)  # learnt from the store
    env.clock.advance(seconds=61)
    await other.monitor.heartbeat(terminal_id, None)  # the all-clear has lasted
    assert await live_alarms(env, terminal_id) == []


async def test_a_new_leader_gives_every_screen_one_hold_off_from_the_takeover(
    env: Env, other: Container
) -> None:
    admin = await env.as_role()
    terminal_id, headers = await screen(env, admin)
    follower = other.monitor
    await follower.start()  # a process up and following
    await beat(env, headers)  # the screen's last heartbeat (the leader dies too)
    hold_off = follower.hold_off
    env.clock.advance(seconds=hold_off.total_seconds() / 2)
    follower.lead()  # the takeover
    took_over = env.clock.now()
    env.clock.advance(seconds=hold_off.total_seconds() / 2 + 1)  # past the plain rule
    assert await follower.sweep() == []  # ... but it may have been the old leader's screen
    env.clock.current = took_over + hold_off
    assert await follower.sweep() == []
    env.clock.advance(milliseconds=1)
    assert await follower.sweep() == [terminal_id]
    assert follower.desk.live(terminal_id, AlarmType.OFFLINE)
