"""A simulated screen on a broker cluster moves to the next node when its
own cannot be reached, as the player does (``bench scale``'s node kill)."""

from __future__ import annotations

import asyncio

from bench.harness.ports import free_port

from lianbo.sim.worker import Fleet, WorkerConfig
from tests.support.waiting import until
from tests.unit.test_sim_behind_proxy import CREDENTIAL


async def test_a_screen_whose_node_is_down_connects_to_the_next() -> None:
    heard: list[bytes] = []

    async def node(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heard.append(await reader.read(1))
        writer.close()

    server = await asyncio.start_server(node, "127.0.0.1", 0)
    alive = server.sockets[0].getsockname()[1]
    dead = free_port()  # nothing listens there
    config = WorkerConfig(
        "mqtt",
        "127.0.0.1",
        dead,
        "127.0.0.1",
        9,
        [CREDENTIAL],
        0,
        fallbacks=(("127.0.0.1", alive),),
    )
    fleet = Fleet(config)
    fleet.running = True
    screen = fleet.screens[0]
    try:
        async with server:
            await screen.connect()  # refused at the dead node
            await until(lambda: bool(heard), "a connection at the next node")
        assert heard[0] == b"\x10"  # it opened with an MQTT CONNECT there
    finally:
        fleet.running = False
        screen.close()
