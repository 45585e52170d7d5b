"""Alert acks over the push channel (player/alert_acks.py): sent up the
channel while it is up and answers, kept until answered, over HTTP when
there is no channel or no answer, sent again after a reconnect; and through
the whole agent against a real local WebSocket."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from lianbo.player.alert_acks import Ack, AckBook, AckSender
from lianbo.player.api import TerminalApi, Unreachable
from lianbo.player.backoff import Backoff
from lianbo.protocol.alerts import AckAnswer
from lianbo.protocol.messages import Message
from tests.support.waiting import until
from tests.unit.test_player_agent import Hub, agent
from tests.unit.test_player_alerts import NOW
from tests.unit.test_player_alerts_agent import (
    AckServer,
    AlertCentre,
    announce,
    fresh,
    hub,  # noqa: F401  (the fixture)
    signed,
)
from tests.unit.test_protocol_manifest import Signer


class Channel:
    """A push channel that records what goes up; ``answer`` is how the fake
    server answers each ``alert-ack`` (None: silence)."""

    def __init__(self) -> None:
        self.connected = True
        self.sent: list[dict[str, Any]] = []
        self.answer: Callable[[dict[str, Any]], dict[str, Any] | None] = stored
        self.sender: AckSender | None = None

    async def send(self, message: Message) -> bool:
        if not self.connected:
            return False
        body = {"type": message.type, **message.body}
        self.sent.append(body)
        reply = self.answer(body)
        if reply is not None and self.sender is not None:
            asyncio.get_running_loop().call_soon(self.sender.answer, reply)
        return True

    def states(self) -> list[str]:
        return [m["state"] for m in self.sent]


def stored(body: dict[str, Any]) -> dict[str, Any]:
    return AckAnswer(body["ref"], body["alert_id"], body["state"], changed=True).body()


def silent(body: dict[str, Any]) -> None:
    return None


def sender(
    tmp: Path, channel: Channel, server: AckServer, **timing: float
) -> tuple[AckBook, AckSender]:
    client = httpx.AsyncClient(transport=httpx.MockTransport(server))
    api = TerminalApi("http://centre.example", "tok", client)
    book = AckBook(tmp / "acks.jsonl")
    acks = AckSender(book, api, Backoff(0.01, 0.05, random.Random(1)), channel, **timing)
    channel.sender = acks
    return book, acks


def add(book: AckBook, *states: str, alert_id: str = "A1") -> None:
    for state in states:
        book.add(Ack(alert_id, state, NOW))


async def test_acks_go_up_the_channel_in_order_and_leave_the_book_when_answered(
    tmp_path: Path,
) -> None:
    channel, server = Channel(), AckServer()
    book, acks = sender(tmp_path, channel, server)
    add(book, "received", "verified", "displayed")
    await acks.flush()
    assert channel.states() == ["received", "verified", "displayed"]
    assert len({m["ref"] for m in channel.sent}) == 3  # each its own ref
    assert not book.pending and acks.via == {"channel": 3, "http": 0}
    assert server.got == []
    assert AckBook(tmp_path / "acks.jsonl").pending == type(book.pending)()  # gone on disk too


async def test_without_a_channel_acks_go_over_http(tmp_path: Path) -> None:
    channel, server = Channel(), AckServer()
    channel.connected = False
    book, acks = sender(tmp_path, channel, server)
    add(book, "received", "displayed")
    await acks.flush()
    assert server.got == [("A1", "received"), ("A1", "displayed")]
    assert channel.sent == [] and acks.via == {"channel": 0, "http": 2}


async def test_no_answer_on_the_channel_sends_the_ack_over_http_and_leaves_the_channel_alone(
    tmp_path: Path,
) -> None:
    channel, server = Channel(), AckServer()
    channel.answer = silent
    book, acks = sender(tmp_path, channel, server, reply_seconds=0.05, quiet_seconds=3600)
    add(book, "displayed")
    await acks.flush()
    assert channel.states() == ["displayed"] and server.got == [("A1", "displayed")]
    add(book, "cancelled")
    await acks.flush()
    assert channel.states() == ["displayed"]  # quiet: straight to HTTP
    assert server.got[-1] == ("A1", "cancelled")
    acks.reconnected()  # a new connection is tried again
    channel.answer = stored
    add(book, "cancelled", alert_id="A2")
    await acks.flush()
    assert channel.sent[-1]["alert_id"] == "A2" and not book.pending


async def test_acks_unanswered_when_the_channel_reconnects_are_sent_again_on_it(
    tmp_path: Path,
) -> None:
    channel, server = Channel(), AckServer()
    channel.answer = silent  # the answer was lost with the old connection
    book, acks = sender(tmp_path, channel, server, reply_seconds=3600)
    add(book, "received", "displayed")
    flushing = asyncio.create_task(acks.flush())
    await until(lambda: len(channel.sent) == 2)
    assert len(book.pending) == 2  # kept until answered
    channel.answer = stored
    acks.reconnected()
    await flushing
    assert channel.states() == ["received", "displayed", "received", "displayed"]
    assert [m["ref"] for m in channel.sent[:2]] == [m["ref"] for m in channel.sent[2:]]
    assert not book.pending and server.got == []


async def test_a_refusal_to_retry_keeps_the_ack_and_one_for_good_drops_it(tmp_path: Path) -> None:
    channel, server = Channel(), AckServer()
    book, acks = sender(tmp_path, channel, server)

    def busy(body: dict[str, Any]) -> dict[str, Any]:
        later = AckAnswer(body["ref"], body["alert_id"], refused="busy", retry_after=1.0)
        return later.body() if body["state"] == "displayed" else stored(body)

    channel.answer = busy
    add(book, "received", "displayed")
    with pytest.raises(Unreachable):
        await acks.flush()
    assert [a.state for a in book.pending] == ["displayed"]  # received is done
    channel.answer = lambda body: AckAnswer(
        body["ref"], body["alert_id"], refused="not_found"
    ).body()
    await acks.flush()
    assert not book.pending and acks.refused == 1 and server.got == []


async def test_an_answer_for_another_ack_is_ignored(tmp_path: Path) -> None:
    channel, server = Channel(), AckServer()
    book, acks = sender(tmp_path, channel, server, reply_seconds=0.05, quiet_seconds=0)
    channel.answer = lambda body: AckAnswer("not-mine", body["alert_id"], "displayed").body()
    add(book, "displayed")
    await acks.flush()  # no answer of its own: over HTTP
    assert server.got == [("A1", "displayed")]


async def test_the_agent_acks_over_the_socket_when_up_and_again_after_a_reconnect(
    tmp_path: Path,
    hub: tuple[Hub, int],  # noqa: F811
) -> None:
    fake, port = hub
    centre = AlertCentre(Signer())
    screen = agent(tmp_path, centre, port, push_poll_seconds=300)
    running = asyncio.create_task(screen.run())
    try:
        await until(lambda: bool(fake.connections))
        await announce(fake, centre, signed(centre.signer, fresh("A1")))
        await until(lambda: [b["state"] for _, b in fake.ack_log][-1:] == ["displayed"])
        assert centre.acks == []  # none over HTTP
        assert screen.ack_sender.via["http"] == 0
        # The hub takes the next ack but its answer is lost with the connection.
        fake.acks_silent = True
        await announce(fake, centre, signed(centre.signer, fresh("A2")))
        await until(lambda: any(m.get("alert_id") == "A2" for m in fake.got("alert-ack")))
        assert any(a.alert_id == "A2" for a in screen.acks.pending)
        fake.acks_silent = False
        first = len(fake.connections)
        await fake.connections[-1].close()
        await until(lambda: len(fake.connections) > first)  # the screen reconnected
        await until(lambda: not screen.acks.pending)
        sent_again = [b for a, b in fake.ack_log if a == "A2"]
        assert sent_again and centre.acks == []
    finally:
        screen.stop()
        await running


async def test_the_agent_without_push_acks_over_http(tmp_path: Path) -> None:
    centre = AlertCentre(Signer())
    centre.listed.append(signed(centre.signer, fresh("A1")))
    screen = agent(tmp_path, centre, port=9, push=False)
    running = asyncio.create_task(screen.run())
    try:
        await until(lambda: centre.states("A1")[-1:] == ["displayed"])
        assert screen.ack_sender.via["channel"] == 0
    finally:
        screen.stop()
        await running


async def test_an_ack_added_while_others_wait_for_answers_is_not_forgotten(
    tmp_path: Path,
) -> None:
    channel, server = Channel(), AckServer()
    channel.answer = silent
    book, acks = sender(tmp_path, channel, server, reply_seconds=3600)
    book.limit = 2
    add(book, "received", "displayed")
    flushing = asyncio.create_task(acks.flush())
    await until(lambda: len(channel.sent) == 2)
    add(book, "cancelled")  # over the limit: the oldest goes
    for body in channel.sent:
        acks.answer(stored(body))
    channel.answer = stored
    await flushing
    assert channel.states()[-1] == "cancelled"  # sent, not dropped with the others
    assert not book.pending


async def test_acks_wait_a_moment_and_one_a_later_ack_implies_is_not_sent(
    tmp_path: Path,
) -> None:
    channel, server = Channel(), AckServer()
    book, acks = sender(tmp_path, channel, server, spread_seconds=0.01)
    add(book, "received", "verified", "displayed")
    add(book, "received", alert_id="A2")
    add(book, "failed", alert_id="A3")
    running = asyncio.create_task(acks.run())
    try:
        await until(lambda: not book.pending)
    finally:
        running.cancel()
    assert [(m["alert_id"], m["state"]) for m in channel.sent] == [
        ("A1", "displayed"),
        ("A2", "received"),
        ("A3", "failed"),
    ]
    assert acks.merged == 2 and acks.via == {"channel": 3, "http": 0}
