"""A server outage is not the screens' fault (ADR 0006): after a restart every
screen gets one hold-off from the moment the server was ready, and the
downtime is recorded. Fake clock throughout; the sweeps are called by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lianbo.domain.monitoring.alarms import AlarmType
from lianbo.services.monitoring import Monitor
from tests.integration.monitoring.helpers import screen
from tests.support.env import Env

pytestmark = pytest.mark.integration

DOWN = timedelta(seconds=60)


def restart(env: Env) -> Monitor:
    """A new server run: nothing of the old one's memory survives."""
    container = env.container
    container.monitor = Monitor(container.settings, env.clock, container.uow)
    return container.monitor


async def beat(env: Env, headers: dict[str, str]) -> None:
    reply = await env.client.post("/terminal/v1/heartbeat", headers=headers)
    assert reply.status_code == 200, reply.text


async def test_screens_get_one_hold_off_from_ready_after_an_outage(env: Env) -> None:
    admin = await env.as_role()
    quiet, quiet_headers = await screen(env, admin)
    back, back_headers = await screen(env, admin)
    first = env.container.monitor
    assert await first.start() is None  # a first start follows no outage
    await beat(env, quiet_headers)
    await beat(env, back_headers)
    env.clock.advance(seconds=5)
    await first.stamp_alive()  # the last sign of life before the server went down
    env.clock.advance(seconds=DOWN.total_seconds())

    monitor = restart(env)
    outage = await monitor.start()
    assert outage is not None and outage.seconds == DOWN.total_seconds()
    ready, hold_off = env.clock.now(), monitor.hold_off
    assert DOWN + timedelta(seconds=5) > hold_off  # both screens are past the plain rule
    assert await monitor.sweep() == []  # ... but could not reach a server that was down
    env.clock.advance(seconds=10)
    await beat(env, back_headers)
    env.clock.current = ready + hold_off
    assert await monitor.sweep() == []
    assert monitor.next_sweep_at() <= ready + hold_off + timedelta(milliseconds=1)
    env.clock.advance(milliseconds=1)
    assert await monitor.sweep() == [quiet]  # silent a whole hold-off after ready
    assert monitor.desk.live(quiet, AlarmType.OFFLINE)
    assert not monitor.desk.live(back, AlarmType.OFFLINE)


async def test_the_outage_is_in_the_audit_log(env: Env) -> None:
    admin = await env.as_role()
    await screen(env, admin)
    first = env.container.monitor
    await first.start()
    env.clock.advance(seconds=3)
    await first.stamp_alive()
    down_from = env.clock.now()
    env.clock.advance(seconds=DOWN.total_seconds())
    await restart(env).start()
    found = await env.client.get("/api/v1/audit", params={"action": "server.down"}, headers=admin)
    assert found.status_code == 200, found.text
    [entry] = found.json()["items"]
    assert entry["actor"] == "system"
    assert entry["after"] == {
        "down_from": down_from.isoformat(),
        "back_at": env.clock.now().isoformat(),
        "down_s": DOWN.total_seconds(),
    }
    verified = await env.client.get("/api/v1/audit/verify", headers=admin)
    assert verified.status_code == 200 and verified.json()["ok"], verified.text


async def test_a_restart_within_the_alive_stamps_is_no_outage(env: Env) -> None:
    admin = await env.as_role()
    first = env.container.monitor
    await first.start()
    env.clock.advance(seconds=8)
    await first.stamp_alive()
    env.clock.advance(seconds=5)  # another process was alive moments ago
    assert await restart(env).start() is None
    found = await env.client.get("/api/v1/audit", params={"action": "server.down"}, headers=admin)
    assert found.json()["items"] == []
