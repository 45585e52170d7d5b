"""Alert acks over the fleet channel into the store (issue 15 §2): screens
send ``alert-ack`` on the hub socket (a real uvicorn) or on MQTT ``up`` (a
real mosquitto, two server processes sharing the ``up`` topics), and the
delivery board counts them; each ack is answered on the channel, a bad one
refused, the sender's identity is the channel's, and across processes each
ack is written once. Both stores."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiomqtt
import pytest
from websockets.asyncio.client import ClientConnection, connect

from lianbo.adapters.fleet import topics
from lianbo.adapters.fleet.directory import DbDirectory
from lianbo.adapters.fleet.hub import WebSocketHub
from lianbo.adapters.fleet.mqtt import MqttFleet
from lianbo.domain.roles import Role
from lianbo.protocol.messages import Message
from lianbo.services.alert_acks import AckBatcher, committed
from tests.integration.alerts.support import at_sample_day, issue, screen
from tests.integration.fleet.conftest import Mosquitto, Served
from tests.support.env import Env
from tests.support.waiting import HANG_GUARD_S, until

pytestmark = pytest.mark.integration

INSIDE = {"region": "510104", "latitude": 30.60, "longitude": 104.05}


def alert_ack(ref: str, alert_id: str, state: str, **more: Any) -> str:
    body = {"ref": ref, "alert_id": alert_id, "state": state, **more}
    return Message("alert-ack", body).encode()


async def answer(ws: ClientConnection) -> dict[str, Any]:
    """The next ``alert-ack`` the server sends (hello and others skipped)."""
    async with asyncio.timeout(HANG_GUARD_S):
        while True:
            message: dict[str, Any] = json.loads(await ws.recv())
            if message["type"] == "alert-ack":
                return message


async def board(env: Env, admin: dict[str, str], alert_id: str) -> dict[str, int]:
    response = await env.client.get(f"/api/v1/alerts/{alert_id}", headers=admin)
    assert response.status_code == 200, response.text
    counts: dict[str, int] = response.json()["counts"]
    return counts


async def test_screens_ack_on_the_socket_and_the_board_counts_them(
    env: Env, served: Served
) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    screens = [await screen(env, admin, **INSIDE) for _ in range(3)]
    alert = await issue(env, admin)
    sockets = [await connect(served.ws_url, additional_headers=headers) for _, headers in screens]
    try:
        for i, ws in enumerate(sockets):
            await ws.send(alert_ack(f"r{i}", alert["id"], "received"))
            await ws.send(alert_ack(f"d{i}", alert["id"], "displayed"))
        for i, ws in enumerate(sockets):
            got = [await answer(ws), await answer(ws)]
            assert {(m["ref"], m["state"], m["changed"]) for m in got} == {
                (f"r{i}", "received", True),
                (f"d{i}", "displayed", True),
            }
        counts = await board(env, admin, alert["id"])
        assert counts["displayed"] == 3
        # Sent again (an answer lost): the same state, nothing changes.
        await sockets[0].send(alert_ack("again", alert["id"], "received"))
        again = await answer(sockets[0])
        assert (again["ref"], again["state"], again["changed"]) == ("again", "displayed", False)
    finally:
        for ws in sockets:
            await ws.close()


async def test_a_socket_ack_is_the_senders_own_and_bad_ones_are_refused_or_dropped(
    env: Env, served: Served
) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    first, first_headers = await screen(env, admin, **INSIDE)
    other, _ = await screen(env, admin, **INSIDE)
    alert = await issue(env, admin)
    hub = env.container.fleet
    assert isinstance(hub, WebSocketHub)
    async with connect(served.ws_url, additional_headers=first_headers) as ws:
        # naming another screen in the message changes nothing: the socket says who
        await ws.send(alert_ack("r1", alert["id"], "displayed", terminal_id=other))
        assert (await answer(ws))["state"] == "displayed"
        await ws.send(alert_ack("r2", "no-such-alert", "displayed"))
        refused = await answer(ws)
        assert refused["ref"] == "r2" and refused["refused"] == "not_found"
        assert "retry_after" not in refused
        await ws.send(alert_ack("r3", alert["id"], "shown"))
        assert (await answer(ws))["refused"] == "invalid"
        dropped = hub.inbox.dropped
        await ws.send(alert_ack("r4", alert["id"], "failed", reason="x" * 20_000))
        await ws.send('{"type": "alert-ack", "state": "displayed"}')
        await until(lambda: hub.inbox.dropped == dropped + 2)
        await ws.send(alert_ack("r5", alert["id"], "displayed"))  # still connected
        assert (await answer(ws))["ref"] == "r5"
    counts = await board(env, admin, alert["id"])
    assert counts["displayed"] == 1
    async with env.container.uow() as uow:
        assert await uow.deliveries.delivery(alert["id"], other) is not None
        mine = await uow.deliveries.delivery(alert["id"], first)
        theirs = await uow.deliveries.delivery(alert["id"], other)
    assert mine.displayed_at is not None and theirs.displayed_at is None


@asynccontextmanager
async def process(env: Env, broker: Mosquitto) -> AsyncIterator[MqttFleet]:
    """One server process's MQTT channel with its own ack batcher."""

    async def nobody(terminals: Any) -> None:
        return None

    batcher = AckBatcher(committed(env.container.uow, env.clock))
    channel = MqttFleet(
        broker.broker(),
        DbDirectory(env.container.uow),
        nobody,
        env.clock,
        alert_acks=batcher,
        share_group="lianbo-acks-test",
    )
    await channel.start()
    try:
        async with asyncio.timeout(HANG_GUARD_S):
            await channel.connected()
        yield channel
    finally:
        await channel.stop()
        await batcher.close()


async def mqtt_answer(client: aiomqtt.Client) -> dict[str, Any]:
    async with asyncio.timeout(HANG_GUARD_S):
        async for message in client.messages:
            body: dict[str, Any] = json.loads(bytes(message.payload))  # type: ignore[arg-type]
            if body["type"] == "alert-ack":
                return body
    raise AssertionError("the broker closed the session")


@pytest.mark.mqtt
async def test_screens_ack_on_mqtt_up_once_across_two_processes(
    env: Env, broker: Mosquitto
) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    terminal_id, headers = await screen(env, admin, **INSIDE)
    token = headers["Authorization"].removeprefix("Bearer ")
    broker.accounts([(terminal_id, token)])
    alert = await issue(env, admin)
    sent = 6
    async with (
        process(env, broker) as a,
        process(env, broker) as b,
        aiomqtt.Client("127.0.0.1", broker.port, username=terminal_id, password=token) as client,
    ):
        await client.subscribe(topics.terminal(terminal_id))
        up = topics.terminal(terminal_id, topics.UP)
        states = ["received", "verified", "displayed"] * 2
        for i, state in enumerate(states[:sent]):
            await client.publish(up, alert_ack(f"r{i}", alert["id"], state).encode())
        answers = [await mqtt_answer(client) for _ in range(sent)]
        assert sorted(m["ref"] for m in answers) == [f"r{i}" for i in range(sent)]
        assert all(m["state"] in ("received", "verified", "displayed") for m in answers)
        taken = [p.inbox.alert_acks.counts["taken"] for p in (a, b) if p.inbox.alert_acks]
        assert sum(taken) == sent  # each once, by one process or the other
    counts = await board(env, admin, alert["id"])
    assert counts["displayed"] == 1
