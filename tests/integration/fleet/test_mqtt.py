"""The MQTT channel against a real mosquitto: auth, ACL, region fan-out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from lianbo.adapters.fleet import topics
from lianbo.adapters.fleet.directory import DbDirectory
from lianbo.adapters.fleet.mqtt import MqttFleet
from lianbo.bootstrap import bootstrap
from lianbo.config import Settings
from lianbo.domain.roles import Role
from lianbo.protocol.messages import Message
from tests.integration.fleet.conftest import Mosquitto, enrolled
from tests.support.env import Env
from tests.support.waiting import HANG_GUARD_S, until

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]


class Screen:
    """A terminal's MQTT side, written with aiomqtt (not the simulator's client)."""

    def __init__(self, client: aiomqtt.Client, terminal_id: str) -> None:
        self.client = client
        self.terminal_id = terminal_id

    async def next(self, within: float = HANG_GUARD_S) -> tuple[str, dict[str, Any]]:
        async with asyncio.timeout(within):
            message = await anext(aiter(self.client.messages))
        assert isinstance(message.payload, bytes)
        return message.topic.value, json.loads(message.payload)

    async def nothing(self, within: float = 0.3) -> None:
        with pytest.raises(TimeoutError):
            await self.next(within)


@asynccontextmanager
async def screen(
    broker: Mosquitto, terminal_id: str, token: str, region: str
) -> AsyncIterator[Screen]:
    status = topics.terminal(terminal_id, topics.STATUS)
    async with aiomqtt.Client(
        "127.0.0.1",
        broker.port,
        username=terminal_id,
        password=token,
        will=aiomqtt.Will(status, topics.OFFLINE, retain=True),
    ) as client:
        for topic in topics.subscriptions(terminal_id, region):
            await client.subscribe(topic)
        await client.publish(status, topics.ONLINE, retain=True)
        yield Screen(client, terminal_id)
        await client.publish(status, topics.OFFLINE, retain=True)


@pytest.fixture
async def fleet(env: Env, broker: Mosquitto) -> AsyncIterator[MqttFleet]:
    seen: list[str] = []

    async def record(ids: list[str]) -> None:
        seen.extend(ids)

    channel = MqttFleet(broker.broker(), DbDirectory(env.container.uow), record, env.clock)
    env.container.fleet = channel
    await channel.start()
    async with asyncio.timeout(HANG_GUARD_S):
        await channel.connected()
    yield channel
    await channel.stop()


async def three_screens(env: Env, broker: Mosquitto) -> list[tuple[str, str, str]]:
    admin = await env.as_role(Role.ADMIN)
    made = []
    for region in ("510107", "510104", "510703"):
        terminal_id, token = await enrolled(env, admin, region=region)
        made.append((terminal_id, token, region))
    broker.accounts([(t, token) for t, token, _ in made])
    return made


async def test_a_region_publish_reaches_that_subtree_only(
    env: Env, broker: Mosquitto, fleet: MqttFleet
) -> None:
    (a, ta, ra), (b, tb, rb), (c, tc, rc) = await three_screens(env, broker)
    async with (
        screen(broker, a, ta, ra) as wuhou,
        screen(broker, b, tb, rb) as jinjiang,
        screen(broker, c, tc, rc) as mianyang,
    ):
        await fleet.publish_region("510100", Message("alert", {"id": "a1"}))
        for reached in (wuhou, jinjiang):
            assert await reached.next() == ("lianbo/r/5101/push", {"type": "alert", "id": "a1"})
        await mianyang.nothing()
        await fleet.publish_region("51", Message("alert", {"id": "a2"}))
        assert (await mianyang.next())[1]["id"] == "a2"


async def test_terminal_topics_reach_one_screen_and_presence_follows_status(
    env: Env, broker: Mosquitto, fleet: MqttFleet
) -> None:
    (a, ta, ra), (b, tb, rb), _ = await three_screens(env, broker)
    async with screen(broker, a, ta, ra) as wuhou, screen(broker, b, tb, rb) as jinjiang:
        await until(lambda: {a, b} <= fleet.online())
        assert await fleet.send([a], Message("command", {"id": "c1"})) == 1
        assert await wuhou.next() == (f"lianbo/t/{a}/push", {"type": "command", "id": "c1"})
        await jinjiang.nothing()

        async with env.container.uow() as uow:
            key = await uow.terminals.audience_key_of(a)
        assert key is not None
        await wuhou.client.subscribe(topics.audience(key))  # known from its manifest
        assert await fleet.manifest_changed({key: "v7"}) == 1  # one publish for the audience
        assert await wuhou.next() == (topics.audience(key), {"type": "manifest", "version": "v7"})
        await jinjiang.nothing()

        await wuhou.client.publish(topics.terminal(a, topics.UP), b'{"type":"time","t0":5}')
        _, reply = await wuhou.next()
        assert reply["type"] == "time" and reply["t0"] == 5 and "server_time" in reply
        await wuhou.client.publish(topics.terminal(a, topics.UP), b"garbage")
        await wuhou.nothing()
    await until(lambda: not fleet.online() & {a, b})


async def test_a_screen_cannot_read_another_screens_topic(
    env: Env, broker: Mosquitto, fleet: MqttFleet
) -> None:
    (a, ta, ra), (b, _, _), _ = await three_screens(env, broker)
    async with screen(broker, a, ta, ra) as wuhou:
        await wuhou.client.subscribe(topics.terminal(b))
        await fleet.send([b], Message("command", {"id": "secret"}))
        await wuhou.nothing()


async def test_a_wrong_password_is_refused(env: Env, broker: Mosquitto) -> None:
    (a, _, _), *_ = await three_screens(env, broker)
    with pytest.raises(aiomqtt.MqttError):
        async with aiomqtt.Client("127.0.0.1", broker.port, username=a, password="wrong"):
            pass
    with pytest.raises(aiomqtt.MqttError):
        async with aiomqtt.Client("127.0.0.1", broker.port):
            pass


def test_settings_choose_the_channel(tmp_path: Path) -> None:
    hub = bootstrap(Settings(data_dir=tmp_path))
    mqtt = bootstrap(Settings(data_dir=tmp_path, fleet="mqtt", mqtt_port=1884))
    assert type(hub.fleet).__name__ == "WebSocketHub"
    assert isinstance(mqtt.fleet, MqttFleet)
