"""The hub's greeting: a screen's ``hello`` lists the alerts it must show
(``WebSocketHub.greet``), so a reconnecting screen need not ask for them."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from lianbo.adapters.fleet.hub import WebSocketHub
from lianbo.protocol.messages import Message
from tests.support.clock import FakeClock
from tests.unit.test_fleet_hub import PEERS, FakeDirectory, FakeLink, Seen

LISTED = {"terminal": {"id": "wuhou-1"}, "alerts": [{"type": "alert", "id": "A1"}]}


def hub_with(greeting: Any) -> WebSocketHub:
    return WebSocketHub(FakeDirectory(*PEERS), Seen(), FakeClock(), greeting=greeting)


async def test_the_hello_lists_the_screens_alerts() -> None:
    asked: list[str] = []

    async def greeting(terminal_id: str) -> dict[str, Any]:
        asked.append(terminal_id)
        return LISTED

    hub = hub_with(greeting)
    hello = json.loads(await hub.greet(PEERS[0], FakeLink()))
    assert asked == ["wuhou-1"]
    assert hello["type"] == "hello" and hello["terminal_id"] == "wuhou-1"
    assert hello["alerts"] == LISTED["alerts"] and hello["terminal"] == LISTED["terminal"]
    assert "server_time" in hello


async def test_a_greeting_the_store_cannot_answer_lists_nothing_and_the_screen_asks() -> None:
    async def failing(terminal_id: str) -> dict[str, Any]:
        raise ConnectionError("store lost")

    async def unknown(terminal_id: str) -> None:
        return None

    for greeting in (failing, unknown, None):
        hello = json.loads(await hub_with(greeting).greet(PEERS[0], FakeLink()))
        assert "alerts" not in hello and hello["terminal_id"] == "wuhou-1"


async def test_the_socket_is_filed_before_its_alerts_are_read() -> None:
    """An alert committed after the read must still reach the screen: it is
    pushed to the socket, filed before the greeting's read began."""
    reading, go_on = asyncio.Event(), asyncio.Event()

    async def greeting(terminal_id: str) -> dict[str, Any]:
        reading.set()
        await go_on.wait()
        return {"terminal": {}, "alerts": []}

    hub = hub_with(greeting)
    link = FakeLink()
    greeted = asyncio.create_task(hub.greet(PEERS[0], link))
    await reading.wait()
    assert hub.online() == {"wuhou-1"}
    await hub.send(["wuhou-1"], Message("alert", {"id": "A2"}))
    await hub.drain()
    go_on.set()
    await greeted
    assert [m["id"] for m in link.sent] == ["A2"]
