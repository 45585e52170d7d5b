"""The headless player against the monitoring endpoints: offline, recovered,
proof of play, unauthorised content (player code, in-process server)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from lianbo.api.app import create_app
from lianbo.domain.roles import Role
from lianbo.player.agent import Agent, AgentConfig
from lianbo.player.api import TerminalApi
from lianbo.player.headless import HeadlessBackend
from lianbo.player.identity import Identity
from lianbo.protocol.reports import PlayLogEntry
from tests.integration.monitoring.helpers import image_asset, scheduled, uploaded
from tests.support.content import png
from tests.support.env import Env
from tests.support.waiting import HANG_GUARD_S

pytestmark = pytest.mark.integration

BASE = "http://lianbo.test"


async def eventually(check: Callable[[], Any]) -> Any:
    """Await ``check()`` until it answers something truthy (a hang guard only)."""
    async with asyncio.timeout(HANG_GUARD_S):
        for _ in itertools.count():
            if found := await check():
                return found
            await asyncio.sleep(0.1)
    raise AssertionError("unreachable")


async def beats(agent: Agent) -> bool:
    return agent.heartbeats >= 1


class Player:
    """A headless agent whose HTTP goes straight into the env's app."""

    def __init__(self, env: Env, identity: Identity, state: Path) -> None:
        self.env, self.identity, self.state = env, identity, state
        self.agent: Agent | None = None
        self.task: asyncio.Task[None] | None = None

    def start(self) -> Agent:
        transport = httpx.ASGITransport(app=create_app(container=self.env.container))
        config = AgentConfig(state_dir=self.state, push=False, playlog_seconds=0.3)
        self.agent = Agent(self.identity, config, HeadlessBackend(), transport=transport)
        self.task = asyncio.create_task(self.agent.run())
        return self.agent

    async def stop(self) -> None:
        assert self.agent is not None and self.task is not None
        self.agent.stop()
        await asyncio.wait_for(self.task, HANG_GUARD_S)


async def enrolled_player(env: Env, admin: dict[str, str], tmp_path: Path) -> tuple[str, Player]:
    created = await env.terminal(admin)
    body = (
        await env.client.post("/terminal/v1/enrol", json={"code": created["enrolment_code"]})
    ).json()
    keys = {k["key_id"]: k["public_key"] for k in body["keys"]}
    identity = Identity(BASE, created["id"], body["token"], keys)
    return created["id"], Player(env, identity, tmp_path / "player")


async def test_headless_player_offline_recovered_and_unauthorised(env: Env, tmp_path: Path) -> None:
    admin = await env.as_role()
    operator = await env.as_role(Role.OPERATOR, "5101")
    asset = await image_asset(env, operator)
    await scheduled(env, operator, asset["id"], 1000)
    terminal_id, player = await enrolled_player(env, admin, tmp_path)
    monitor = env.container.monitor

    async def plays() -> int:
        async with env.container.uow() as uow:
            return await uow.monitoring.play_count(terminal_id)

    async def alarms() -> list[dict[str, Any]]:
        listed = await env.client.get(
            "/api/v1/alarms", params={"terminal_id": terminal_id}, headers=admin
        )
        items: list[dict[str, Any]] = listed.json()["items"]
        return items

    agent = player.start()
    await eventually(lambda: beats(agent))
    await eventually(plays)  # proof of play from the player's own log
    await player.stop()
    assert await alarms() == []  # it played what it was told

    env.clock.advance(seconds=61)  # two missed heartbeats
    assert await monitor.sweep() == [terminal_id]
    assert [(a["type"], a["state"]) for a in await alarms()] == [("offline", "open")]

    agent = player.start()  # back
    await eventually(lambda: beats(agent))
    shown = (await env.client.get(f"/api/v1/terminals/{terminal_id}", headers=admin)).json()
    assert shown["status"] == "online"
    await player.stop()
    env.clock.advance(seconds=61)  # its next beats keep coming: clear for a minute
    api = TerminalApi(BASE, player.identity.token, env.client)
    await api.heartbeat({"backend": "headless"})
    assert [(a["type"], a["state"]) for a in await alarms()] == [("offline", "resolved")]

    unscheduled = await uploaded(env, operator, png(), "插播.png")
    now = env.clock.now()
    entry = PlayLogEntry(
        unscheduled["sha256"], None, now - timedelta(seconds=20), now - timedelta(seconds=5)
    )
    assert await api.playlog([entry]) is True
    found = {a["type"]: a for a in await alarms()}
    assert found["unauthorised-content"]["severity"] == "critical"
    assert found["unauthorised-content"]["evidence"]["sha256"] == unscheduled["sha256"]
