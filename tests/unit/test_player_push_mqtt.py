"""The player's MQTT channel loop: it tries a broker cluster's nodes in turn,
and a stop is never lost inside a broker login."""

from __future__ import annotations

import asyncio

import aiomqtt
import pytest
from aiomqtt.exceptions import MqttConnectError

from lianbo.api.routes.terminal_v1 import push_route
from lianbo.config import Settings
from lianbo.player.backoff import Backoff
from lianbo.player.clock import OffsetEstimator, SystemClock
from lianbo.player.push_mqtt import MqttPushChannel, route_of
from lianbo.protocol.messages import Message
from tests.support.waiting import HANG_GUARD_S

NODES = ["n1:1883", "n2:1883", "n3:1883"]


async def ignore(message: Message) -> None:
    del message


def channel() -> MqttPushChannel:
    route = route_of(push_route(Settings(fleet="mqtt", mqtt_public_brokers=NODES), "t-1"))
    assert route is not None
    return MqttPushChannel(
        route,
        "t-1",
        "token",
        ignore,
        audience=lambda: None,
        clock=SystemClock(),
        estimator=OffsetEstimator(),
        backoff=Backoff(0.001, 0.001),
    )


async def test_each_failure_moves_to_the_next_node() -> None:
    pushed = channel()
    tried: list[tuple[str, int]] = []

    async def session() -> None:
        tried.append(pushed.broker)
        if len(tried) == 4:
            raise asyncio.CancelledError
        raise aiomqtt.MqttError("node down")

    pushed._broker_session = session  # type: ignore[method-assign]
    with pytest.raises(asyncio.CancelledError):
        await pushed.run()
    assert len({host for host, _ in tried[:3]}) == 3  # every node once
    assert tried[3] == tried[0]  # and round again


async def test_a_stop_that_arrives_with_the_brokers_refusal_ends_the_loop() -> None:
    """aiomqtt's wait_for (Python 3.11) can swallow a cancel and raise the
    CONNACK refusal instead; the loop must still end."""
    pushed = channel()

    async def session() -> None:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            raise MqttConnectError(5) from None  # the cancel, swallowed

    pushed._broker_session = session  # type: ignore[method-assign]
    running = asyncio.create_task(pushed.run())
    done, _ = await asyncio.wait({running}, timeout=HANG_GUARD_S)
    assert running in done and running.cancelled()
