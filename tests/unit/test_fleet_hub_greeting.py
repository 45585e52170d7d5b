"""The hub's greeting: ``hello`` at once, then an ``alerts`` message listing
what the screen must show (``WebSocketHub.greet``), so a reconnecting screen
need not ask for it."""

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


async def test_the_hello_says_the_list_follows_and_it_does() -> None:
    asked: list[str] = []

    async def greeting(terminal_id: str) -> dict[str, Any]:
        asked.append(terminal_id)
        return LISTED

    hub = hub_with(greeting)
    link = FakeLink()
    hello = json.loads(hub.greet(PEERS[0], link))
    assert hello["type"] == "hello" and hello["terminal_id"] == "wuhou-1"
    assert hello["alerts_follow"] is True and "server_time" in hello
    await hub.drain()
    assert asked == ["wuhou-1"]
    assert link.sent == [{"type": "alerts", **LISTED}]


async def test_a_list_the_store_cannot_give_is_empty_and_the_screen_asks() -> None:
    async def failing(terminal_id: str) -> dict[str, Any]:
        raise ConnectionError("store lost")

    async def unknown(terminal_id: str) -> None:
        return None

    for greeting in (failing, unknown):
        hub, link = hub_with(greeting), FakeLink()
        assert json.loads(hub.greet(PEERS[0], link))["alerts_follow"] is True
        await hub.drain()
        assert link.sent == [{"type": "alerts"}]  # no "alerts": ask over HTTP


async def test_without_a_greeting_the_hello_promises_nothing() -> None:
    hello = json.loads(hub_with(None).greet(PEERS[0], FakeLink()))
    assert "alerts_follow" not in hello and hello["terminal_id"] == "wuhou-1"


async def test_the_socket_is_filed_before_its_alerts_are_read() -> None:
    """An alert committed after the read must still reach the screen: it is
    pushed to the socket, filed before the list was read."""
    reading, go_on = asyncio.Event(), asyncio.Event()

    async def greeting(terminal_id: str) -> dict[str, Any]:
        reading.set()
        await go_on.wait()
        return {"terminal": {}, "alerts": []}

    hub = hub_with(greeting)
    link = FakeLink()
    hub.greet(PEERS[0], link)
    await reading.wait()
    assert hub.online() == {"wuhou-1"}
    await hub.send(["wuhou-1"], Message("alert", {"id": "A2"}))
    go_on.set()
    await hub.drain()
    assert sorted(m["type"] for m in link.sent) == ["alert", "alerts"]  # both reach it
