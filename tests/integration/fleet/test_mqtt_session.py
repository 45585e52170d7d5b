"""The server's own MQTT session against a real mosquitto: bursts, refusals, a dead link."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection

import pytest

from lianbo.adapters.fleet import topics
from lianbo.adapters.fleet.mqtt import MqttFleet
from lianbo.adapters.fleet.mqtt_session import MqttError, MqttSession, open_session
from lianbo.adapters.fleet.registry import Peer
from lianbo.protocol import mqtt_wire
from tests.integration.fleet.conftest import Mosquitto
from tests.support.clock import FakeClock
from tests.support.waiting import HANG_GUARD_S, until

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]

BURST = 3000


class EveryScreen:
    """A directory that knows every id (the burst's screens are not in a store)."""

    async def by_token(self, token: str) -> Peer | None:
        return None

    async def by_ids(self, terminal_ids: Collection[str]) -> dict[str, Peer]:
        return {t: Peer(t, "audience", "510107") for t in terminal_ids}


async def nobody(seen: list[tuple[str, object]]) -> None:
    return None


async def busy_loop(stop: asyncio.Event, turns: list[int]) -> None:
    """5 ms of blocking work per turn of the loop, as HTTP requests would take;
    counts the turns in ``turns[0]``."""
    while not stop.is_set():
        time.sleep(0.005)  # noqa: ASYNC251 - blocking on purpose: a loop turn's work
        turns[0] += 1
        await asyncio.sleep(0)


async def server_session(broker: Mosquitto, name: str) -> MqttSession:
    user, password = broker.SERVER
    return await open_session(
        "127.0.0.1",
        broker.port,
        lambda t, p: None,
        client_id=name,
        username=user,
        password=password,
    )


async def test_a_burst_of_statuses_is_taken_in_while_the_loop_is_busy(broker: Mosquitto) -> None:
    fleet = MqttFleet(broker.broker(), EveryScreen(), nobody, FakeClock())
    await fleet.start()
    stop = asyncio.Event()
    try:
        async with asyncio.timeout(HANG_GUARD_S):
            await fleet.connected()
        screens = await server_session(broker, "burst")  # may write any lianbo topic
        turns = [0]
        busy = asyncio.create_task(busy_loop(stop, turns))
        for i in range(BURST):
            screens.publish(topics.terminal(f"s{i:05d}", topics.STATUS), topics.ONLINE)
        await until(lambda: len(fleet.online()) == BURST, "every status taken in")
        # One packet per loop turn (paho's way) would take 3,000 turns; counted
        # in turns, not seconds, so a slow machine does not change the verdict.
        assert turns[0] < BURST / 10, f"{turns[0]} loop turns for {BURST} packets"
        screens.close()
    finally:
        stop.set()
        await fleet.stop()
    await busy


async def test_wrong_credentials_are_refused_with_the_reason(broker: Mosquitto) -> None:
    with pytest.raises(MqttError, match=r"bad user name or password|not authorised"):
        await open_session(
            "127.0.0.1",
            broker.port,
            lambda t, p: None,
            client_id="x",
            username="lianbo-server",
            password="wrong",
        )
    with pytest.raises(MqttError, match="cannot reach the broker"):
        await open_session("127.0.0.1", 1, lambda t, p: None, client_id="x")


async def test_publishes_arrive_in_order_and_a_closed_session_refuses_more(
    broker: Mosquitto,
) -> None:
    got: list[tuple[str, bytes]] = []
    user, password = broker.SERVER
    listener = await open_session(
        "127.0.0.1",
        broker.port,
        lambda t, p: got.append((t, p)),
        client_id="listener",
        username=user,
        password=password,
    )
    await listener.subscribe(["lianbo/r/+/push"])
    sender = await server_session(broker, "sender")
    for i in range(500):
        assert sender.publish("lianbo/r/51/push", str(i).encode())
    await until(lambda: len(got) >= 500, "all 500 publishes")
    assert got == [("lianbo/r/51/push", str(i).encode()) for i in range(500)]
    sender.close()
    await asyncio.wait_for(sender.closed, HANG_GUARD_S)
    assert not sender.publish("lianbo/r/51/push", b"late")
    listener.close()


async def test_a_silent_broker_is_noticed_by_the_keepalive() -> None:
    """A listener that accepts and answers CONNACK, then says nothing."""

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        writer.write(b"\x20\x02\x00\x00")  # CONNACK accepted
        while await reader.read(1024):  # pings go unanswered, until the client gives up
            pass

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        session = await open_session("127.0.0.1", port, lambda t, p: None, client_id="x")
        session.heard -= 10  # as if nothing came for 10 s
        with pytest.raises(MqttError, match="stopped answering"):
            await asyncio.wait_for(session.keep_alive(1), HANG_GUARD_S)
        assert not session.open


async def test_every_packet_of_a_chunk_is_handled_and_a_split_one_waits() -> None:
    got: list[tuple[str, bytes]] = []
    session = MqttSession(lambda t, p: got.append((t, p)))
    stream = b"".join(mqtt_wire.publish(f"lianbo/t/s{i}/up".encode(), b"x" * i) for i in range(300))
    session.data_received(stream[:-5])
    assert len(got) == 299
    session.data_received(stream[-5:])
    assert got == [(f"lianbo/t/s{i}/up", b"x" * i) for i in range(300)]
