"""Bad input on a broker channel, against real brokers: a screen writing
another screen's ``up`` topic is refused by the broker (lianbo never sees
it: neither broker tells lianbo, docs/broker.md), and malformed or oversized
``up`` payloads are dropped and counted by reason (``/metrics``) while the
next good message is answered as usual. The hub's own refusals are in
test_hub.py and test_terminal_socket.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiomqtt
import pytest

from lianbo.adapters.fleet import topics
from lianbo.adapters.fleet.mqtt import MqttFleet
from lianbo.adapters.fleet.nats_fleet import NatsFleet
from lianbo.protocol.messages import MAX_MESSAGE_BYTES
from tests.integration.fleet.conftest import Mosquitto, NatsBrokers
from tests.integration.fleet.test_mqtt import fleet, screen, three_screens
from tests.integration.fleet.test_nats_cluster import enrolled, serving
from tests.support.env import Env
from tests.support.metrics import value
from tests.support.waiting import HANG_GUARD_S, until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.mqtt,
    pytest.mark.parametrize("env", ["sqlite"], indirect=True),  # the store is not tested
]

__all__ = ["fleet"]  # test_mqtt's fixture: lianbo on the mosquitto of ``broker``

REFUSED = "lianbo_fleet_messages_refused_total"
# Sent after a forged message on another screen's topic: if the broker had
# let that through, lianbo would have counted one more malformed message.
BAD = [b"not json", json.dumps({"type": "time", "pad": "x" * MAX_MESSAGE_BYTES}).encode()]
FORGED = b"forged: not json either"


def time_message(t0: float) -> bytes:
    return json.dumps({"type": "time", "t0": t0}).encode()


async def sends_bad_then_good(client: aiomqtt.Client, mine: str, theirs: str) -> None:
    """The forged message, the bad ones, then a good one, on one connection
    in this order (so the good one's answer means the others were handled)."""
    await client.publish(topics.terminal(theirs, topics.UP), FORGED)
    for payload in BAD:
        await client.publish(topics.terminal(mine, topics.UP), payload)
    await client.publish(topics.terminal(mine, topics.UP), time_message(7.0))


async def counted(env: Env) -> str:
    """The process's ``/metrics`` page."""
    return (await env.client.get("/metrics")).text


async def test_mosquitto_refuses_a_forged_up_and_lianbo_counts_bad_payloads(
    env: Env, broker: Mosquitto, fleet: MqttFleet
) -> None:
    (a, ta, ra), (b, _, _), _ = await three_screens(env, broker)
    async with screen(broker, a, ta, ra) as mine:
        await sends_bad_then_good(mine.client, a, b)
        _, reply = await mine.next()
        assert reply["type"] == "time" and reply["t0"] == 7.0  # the handler goes on
    assert fleet.inbox.refused == {"malformed": 1, "oversized": 1}  # the forged one never came
    assert b not in fleet.online()
    text = await counted(env)
    assert value(text, REFUSED, reason="malformed") == 1
    assert value(text, REFUSED, reason="oversized") == 1
    assert value(text, "lianbo_fleet_connected") == 1
    assert value(text, "lianbo_fleet_logins_total", outcome="refused") is None  # mosquitto's


@pytest.fixture
async def nats_fleet(env: Env, nats_cluster: NatsBrokers) -> AsyncIterator[NatsFleet]:
    channel = await serving(env, nats_cluster)
    yield channel
    await channel.stop()


async def test_nats_refuses_a_forged_up_and_lianbo_counts_bad_payloads(
    env: Env, nats_fleet: NatsFleet, nats_cluster: NatsBrokers
) -> None:
    mine, theirs = await enrolled(env), await enrolled(env)
    a = mine.terminal_id
    async with aiomqtt.Client(
        *nats_cluster.mqtt(1),
        identifier=a,
        username=a,
        password=mine.token,
        timeout=HANG_GUARD_S,
    ) as client:
        await client.subscribe(topics.terminal(a))
        await sends_bad_then_good(client, a, theirs.terminal_id)
        async with asyncio.timeout(HANG_GUARD_S):
            message = await anext(aiter(client.messages))
        assert isinstance(message.payload, bytes)
        reply = json.loads(message.payload)
        assert reply["type"] == "time" and reply["t0"] == 7.0
    await until(lambda: nats_fleet.inbox.dropped == 2, "the bad payloads counted")
    assert nats_fleet.inbox.refused == {"malformed": 1, "oversized": 1}
    assert theirs.terminal_id not in nats_fleet.online()
    text = await counted(env)
    assert value(text, REFUSED, reason="malformed") == 1
    assert value(text, REFUSED, reason="oversized") == 1
    assert value(text, "lianbo_fleet_connected") == 1
    logins = "lianbo_fleet_logins_total"
    assert (value(text, logins, outcome="accepted") or 0) >= 1  # the callout let it in
