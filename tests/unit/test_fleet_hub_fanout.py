"""A fan-out goes before the acks it provokes: alert acks that come in while
the hub is still writing a push wait (``ChannelAcks.hold``) and go to the
batcher once every send is done — ordering shown with events, not time."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from lianbo.adapters.fleet import hub as hub_module
from lianbo.adapters.fleet.hub import WebSocketHub
from lianbo.protocol.messages import Message
from tests.support.clock import FakeClock
from tests.support.waiting import until
from tests.unit.test_fleet_hub import PEERS, FakeDirectory, Seen


class Journal:
    """What happened, in order: sends finished and acks handed to the batcher."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []


class SlowLink:
    """A link whose sends wait for ``gate`` (an ASGI socket's ``send`` awaits)."""

    def __init__(self, name: str, journal: Journal, gate: asyncio.Event) -> None:
        self.name, self.journal, self.gate = name, journal, gate

    async def send_text(self, text: str) -> None:
        await self.gate.wait()
        self.journal.events.append(("sent", self.name))

    async def close(self, code: int, reason: str = "") -> None:
        return None


class Batcher:
    """The ``AlertAcks`` port: records each ack it is handed."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def submit(
        self, terminal_id: str, alert_id: str, state: str, reason: str | None = None
    ) -> asyncio.Future[Any]:
        self.journal.events.append(("ack", terminal_id))
        return asyncio.get_running_loop().create_future()


def ack(alert_id: str) -> str:
    return json.dumps(
        {"type": "alert-ack", "ref": "r1", "alert_id": alert_id, "state": "displayed"}
    )


def hub_of(journal: Journal, gate: asyncio.Event) -> WebSocketHub:
    hub = WebSocketHub(FakeDirectory(*PEERS), Seen(), FakeClock(), alert_acks=Batcher(journal))
    for peer in PEERS[:2]:
        hub.join(peer, SlowLink(peer.terminal_id, journal, gate))
    return hub


async def test_acks_that_come_during_a_fan_out_are_handed_on_after_its_sends() -> None:
    journal, gate = Journal(), asyncio.Event()
    hub = hub_of(journal, gate)
    await hub.send(["wuhou-1", "wuhou-2"], Message("alert", {"id": "A1"}))
    assert hub.receive(PEERS[0], ack("A1")) is None  # taken, answered after its commit
    await asyncio.sleep(0)
    assert journal.events == []  # held while the push is being written
    gate.set()
    await hub.drain()
    assert journal.events == [("sent", "wuhou-1"), ("sent", "wuhou-2"), ("ack", "wuhou-1")]
    hub.receive(PEERS[1], ack("A1"))  # no fan-out under way: at once
    assert journal.events[-1] == ("ack", "wuhou-2")


async def test_a_screen_that_does_not_read_holds_the_acks_up_only_briefly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hub_module, "FANOUT_HOLD_S", 0.01)
    journal, gate = Journal(), asyncio.Event()
    hub = hub_of(journal, gate)
    await hub.send(["wuhou-1"], Message("alert", {"id": "A1"}))
    hub.receive(PEERS[1], ack("A1"))
    await until(lambda: journal.events == [("ack", "wuhou-2")])  # the send still hangs
    gate.set()
    await hub.drain()
    assert journal.events[-1] == ("sent", "wuhou-1")


async def test_held_acks_are_handed_on_at_a_stop() -> None:
    journal, gate = Journal(), asyncio.Event()
    hub = hub_of(journal, gate)
    await hub.send(["wuhou-1"], Message("alert", {"id": "A1"}))
    hub.receive(PEERS[1], ack("A1"))
    assert hub.inbox.alert_acks is not None
    settling = asyncio.create_task(hub.inbox.alert_acks.settle())
    await until(lambda: ("ack", "wuhou-2") in journal.events)
    settling.cancel()
    gate.set()
    await hub.drain()
