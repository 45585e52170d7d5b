"""The player's MQTT push channel against a real mosquitto and a server in
MQTT mode: it logs in as the screen, hears manifest, region and command
pushes, gets its time answered, follows a new audience, and a wrong token
is refused without taking the channel down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lianbo.adapters.fleet.directory import DbDirectory
from lianbo.adapters.fleet.mqtt import MqttFleet
from lianbo.api.app import create_app
from lianbo.player import identity as store
from lianbo.player.agent import Agent, AgentConfig
from lianbo.player.alert_acks import Ack, AckBook, AckSender
from lianbo.player.api import TerminalApi
from lianbo.player.backoff import Backoff
from lianbo.player.channels import push_channel
from lianbo.player.clock import OffsetEstimator, SystemClock
from lianbo.player.headless import HeadlessBackend
from lianbo.player.identity import Identity
from lianbo.player.push_mqtt import MqttPushChannel
from lianbo.protocol.messages import Message
from lianbo.services import commands
from lianbo.services.commands import CommandAcks
from tests.integration.alerts.support import at_sample_day, issue
from tests.integration.fleet.conftest import Mosquitto
from tests.support.env import Env
from tests.support.waiting import HANG_GUARD_S, until

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]

BASE = "http://lianbo.test"


@pytest.fixture
async def fleet(env: Env, broker: Mosquitto) -> AsyncIterator[MqttFleet]:
    """The server in MQTT mode: its fleet on the broker, screens told so at enrolment."""
    settings = env.container.settings
    env.container.settings = settings.model_copy(
        update={"fleet": "mqtt", "mqtt_host": "127.0.0.1", "mqtt_port": broker.port}
    )

    async def seen(ids: list[str]) -> None:
        del ids

    channel = MqttFleet(
        broker.broker(),
        DbDirectory(env.container.uow),
        seen,
        env.clock,
        heartbeats=env.container.monitor,
        acks=CommandAcks(env.container.uow),
        alert_acks=env.container.acks,
    )
    env.container.fleet = channel
    await channel.start()
    async with asyncio.timeout(HANG_GUARD_S):
        await channel.connected()
    yield channel
    await channel.stop()


async def enrolled(env: Env, broker: Mosquitto, *, password: str | None = None) -> Identity:
    """A screen enrolled the way the player does it; its broker account written."""
    created = await env.terminal(await env.as_role(), region="510107")
    identity = await store.enrol(BASE, created["enrolment_code"], env.client)
    broker.accounts([(identity.terminal_id, password or identity.token)])
    return identity


class Screen:
    """The agent's push channel on its own, recording what it hands over."""

    def __init__(self, identity: Identity) -> None:
        self.audience: dict[str, Any] | None = identity.audience
        self.received: list[Message] = []
        self.connects = 0
        self.estimator = OffsetEstimator()
        self.backoff = Backoff(0.05, 0.2)
        chosen = push_channel(
            identity,
            self.handle,
            audience=lambda: self.audience,
            clock=SystemClock(),
            estimator=self.estimator,
            backoff=self.backoff,
            on_connect=self.connected,
        )
        assert isinstance(chosen, MqttPushChannel)  # as the enrolment said
        self.channel = chosen
        self.channel.audience_check = 0.05

    async def handle(self, message: Message) -> None:
        self.received.append(message)

    async def connected(self) -> None:
        self.connects += 1

    def got(self, kind: str, **body: Any) -> bool:
        return any(m.type == kind and body.items() <= m.body.items() for m in self.received)


async def sent(env: Env, terminal_id: str, name: str) -> str:
    """A command sent as the console sends it (stored, then pushed); its id."""
    admin = await env.as_role()
    response = await env.client.post(
        f"/api/v1/terminals/{terminal_id}/commands", json={"command": name}, headers=admin
    )
    assert response.status_code == 202, response.text
    command_id: str = response.json()["id"]
    return command_id


async def acked(env: Env, terminal_id: str, command_id: str) -> bool:
    """Whether the store has the screen's acknowledgement of the command."""
    async with env.container.uow() as uow:
        found = await commands.recent_commands(uow, terminal_id)
    return any(c.id == command_id and c.acked_at is not None for c in found)


async def reported(env: Env, terminal_id: str) -> bool:
    async with env.container.uow() as uow:
        return await commands.latest_status(uow, terminal_id) is not None


async def audience_key(env: Env, terminal_id: str) -> str:
    async with env.container.uow() as uow:
        key = await uow.terminals.audience_key_of(terminal_id)
    assert key is not None
    return key


async def test_the_channel_logs_in_as_the_screen_and_hears_every_push(
    env: Env, broker: Mosquitto, fleet: MqttFleet
) -> None:
    identity = await enrolled(env, broker)
    assert identity.push is not None and identity.push["port"] == broker.port
    screen = Screen(identity)
    task = asyncio.create_task(screen.channel.run())
    try:
        await until(lambda: screen.channel.link.up and identity.terminal_id in fleet.online())
        assert screen.connects == 1 and screen.channel.connected
        await until(lambda: screen.estimator.samples >= 2)  # time answered on its topic

        key = await audience_key(env, identity.terminal_id)
        assert await fleet.manifest_changed({key: "v9"}) == 1
        await until(lambda: screen.got("manifest", version="v9"))
        await fleet.publish_region("5101", Message("alert", {"id": "a1"}))
        await until(lambda: screen.got("alert", id="a1"))
        c1 = await sent(env, identity.terminal_id, "reload")
        await until(lambda: screen.got("command", id=c1, command="reload"))
        assert await screen.channel.send(Message("ack", {"id": c1}))
        await until(lambda: acked(env, identity.terminal_id, c1))
        assert not screen.got("time")  # time answers feed the clock, not the handler

        # Moved to Mianyang: its new region and audience topics, not the old ones.
        screen.audience = {**(identity.audience or {}), "region": "510703"}
        await until(lambda: "lianbo/r/5107/push" in screen.channel.listening)
        await fleet.publish_region("5101", Message("alert", {"id": "old-city"}))
        await fleet.publish_region("5107", Message("alert", {"id": "new-city"}))
        await until(lambda: screen.got("alert", id="new-city"))
        assert not screen.got("alert", id="old-city")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    await until(lambda: identity.terminal_id not in fleet.online())  # said offline


async def test_a_wrong_token_is_refused_and_retried_without_a_crash(
    env: Env, broker: Mosquitto, fleet: MqttFleet
) -> None:
    identity = await enrolled(env, broker, password="not-the-token")
    screen = Screen(identity)
    task = asyncio.create_task(screen.channel.run())
    try:
        await until(lambda: screen.channel.link.failures >= 2)  # backed off, tried again
        assert not task.done()
        assert screen.channel.link.up is False and not screen.channel.connected
        error = screen.channel.link.error or ""
        assert "refused by the broker" in error and "Not authorized" in error, error
        assert screen.connects == 0 and screen.received == []
        assert identity.terminal_id not in fleet.online()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_the_agent_cannot_tell_it_is_on_mqtt(
    env: Env, broker: Mosquitto, fleet: MqttFleet, tmp_path: Path
) -> None:
    identity = await enrolled(env, broker)
    transport = httpx.ASGITransport(app=create_app(container=env.container))
    config = AgentConfig(state_dir=tmp_path / "player", backoff_base=0.05, backoff_cap=0.2)
    agent = Agent(identity, config, HeadlessBackend(), transport=transport)
    task = asyncio.create_task(agent.run())
    try:
        await until(lambda: agent.status()["push"] == "connected")
        assert isinstance(agent.push, MqttPushChannel)
        await until(lambda: reported(env, identity.terminal_id))  # a beat, stored
        assert agent.beats.sent["socket"] >= 1
        c2 = await sent(env, identity.terminal_id, "reload")
        await until(lambda: acked(env, identity.terminal_id, c2))
    finally:
        agent.stop()
        await asyncio.wait_for(task, HANG_GUARD_S)


async def test_the_players_alert_acks_go_up_mqtt_and_leave_its_book_when_stored(
    env: Env, broker: Mosquitto, fleet: MqttFleet, tmp_path: Path
) -> None:
    at_sample_day(env)
    identity = await enrolled(env, broker)
    alert = await issue(env, await env.as_role(), area={"regions": ["510107"]})
    screen = Screen(identity)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(container=env.container))
    )
    api = TerminalApi(BASE, identity.token, client, terminal_id=identity.terminal_id)
    book = AckBook(tmp_path / "acks.jsonl")
    sender = AckSender(book, api, Backoff(0.05, 0.2), screen.channel)

    async def handle(message: Message) -> None:
        if message.type == "alert-ack":
            sender.answer(message.body)

    screen.channel.handler = handle
    running = asyncio.create_task(screen.channel.run())
    try:
        await until(lambda: screen.channel.connected)
        for state in ("received", "displayed"):
            book.add(Ack(alert["id"], state, env.clock.now()))
        async with asyncio.timeout(HANG_GUARD_S):
            await sender.flush()
        assert not book.pending and sender.via == {"channel": 2, "http": 0}
        async with env.container.uow() as uow:
            row = await uow.deliveries.delivery(alert["id"], identity.terminal_id)
        assert row is not None and row.displayed_at is not None
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await client.aclose()


async def test_a_hub_server_names_the_hub(env: Env) -> None:
    created = await env.terminal(await env.as_role())
    reply = await env.client.post("/terminal/v1/enrol", json={"code": created["enrolment_code"]})
    assert reply.json()["push"] == {"channel": "hub", "path": "/terminal/v1/ws"}
