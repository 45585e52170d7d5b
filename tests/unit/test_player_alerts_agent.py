"""Alerts through the whole agent, against a fake control centre (HTTP via
``httpx.MockTransport``, push via a real local WebSocket); and the ack
book that keeps acks until the server has them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.server import serve

from lianbo.player.agent import Agent
from lianbo.player.alert_acks import Ack, AckBook, AckSender
from lianbo.player.api import TerminalApi, Unreachable
from lianbo.player.backoff import Backoff
from lianbo.player.headless import HeadlessBackend
from lianbo.protocol.messages import Message
from tests.support.waiting import until
from tests.unit.test_player_agent import Centre, Hub, agent, shown
from tests.unit.test_player_alerts import INSIDE, NOW, OUTSIDE, SQUARE, cancel, notice, signed
from tests.unit.test_protocol_manifest import Signer


@pytest.fixture
async def hub() -> AsyncIterator[tuple[Hub, int]]:
    fake = Hub()
    async with serve(fake.handler, "127.0.0.1", 0) as server:
        yield fake, next(iter(server.sockets)).getsockname()[1]


class AlertCentre(Centre):
    """The fake centre with an alert list and an ack endpoint."""

    def __init__(self, signer: Signer, terminal: dict[str, Any] = INSIDE) -> None:
        super().__init__(signer)
        self.terminal = terminal
        self.listed: list[dict[str, Any]] = []
        self.acks: list[tuple[str, dict[str, Any]]] = []
        self.ack_status = 200

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if not self.down and path == "/terminal/v1/alerts":
            self.seen.append((path, None))
            return httpx.Response(200, json={"terminal": self.terminal, "alerts": self.listed})
        if not self.down and path.startswith("/terminal/v1/alerts/"):
            self.seen.append((path, None))
            if self.ack_status != 200:
                return httpx.Response(self.ack_status, json={"error": {"message": "later"}})
            self.acks.append((path.split("/")[4], json.loads(request.content)))
            return httpx.Response(200, json={"ok": True})
        return super().__call__(request)

    def states(self, alert_id: str) -> list[str]:
        return [body["state"] for got, body in self.acks if got == alert_id]


def alerts_on(screen: Agent) -> list[dict[str, Any]]:
    assert isinstance(screen.backend, HeadlessBackend)
    return [e for e in screen.backend.events if e["event"].startswith("alert")]


def fresh(alert_id: str = "A1", **fields: Any) -> dict[str, Any]:
    """A notice in force now (the agent runs on the real clock)."""
    now = datetime.now(UTC)
    fields.setdefault("expires", (now + timedelta(hours=1)).isoformat())
    return notice(alert_id, sent=now.isoformat(), **fields)


async def push(fake: Hub, body: dict[str, Any]) -> None:
    kind = body.pop("type")
    await fake.connections[-1].send(Message(kind, body).encode())


async def announce(fake: Hub, centre: AlertCentre, body: dict[str, Any]) -> None:
    """Push a notice the way the server does: it lists it too (cancels
    included), so a list the screen fetches after the push (as on a loaded
    machine) does not withdraw it."""
    centre.listed.append(dict(body))
    await push(fake, body)


async def test_a_pushed_alert_takes_over_at_once_and_is_acked_then_cancel_brings_the_programme_back(
    tmp_path: Path, hub: tuple[Hub, int]
) -> None:
    fake, port = hub
    centre = AlertCentre(Signer())
    fake.ack_log = centre.acks  # acks over the socket are the centre's too
    screen = agent(tmp_path, centre, port, push_poll_seconds=300)
    running = asyncio.create_task(screen.run())
    try:
        await until(lambda: fake.connections and "a" in shown(screen))
        await until(lambda: centre.count("/terminal/v1/alerts") >= 1)  # asked on connect
        await announce(fake, centre, signed(centre.signer, fresh(status="Exercise")))
        # On screen by the push (the next poll is five minutes away).
        await until(lambda: centre.states("A1") == ["received", "verified", "displayed"])
        shown_alert = alerts_on(screen)[0]
        assert shown_alert["mode"] == "takeover" and shown_alert["mark"] == "演练 EXERCISE"
        assert screen.status()["alerts"] == [{"id": "A1", "state": "displayed"}]
        assert screen.status()["showing"]["alert"] == "A1"
        before = len(shown(screen))
        await announce(fake, centre, cancel(centre.signer, "A1"))
        await until(lambda: centre.states("A1")[-1:] == ["cancelled"])
        await until(lambda: len(shown(screen)) > before)  # the programme is back
        assert [e["event"] for e in alerts_on(screen)] == ["alert", "alert-end"]
        assert screen.status()["alerts"] == [{"id": "A1", "state": "cancelled"}]
    finally:
        screen.stop()
        await running


async def test_an_alert_sent_while_offline_arrives_with_the_reconnect(
    tmp_path: Path, hub: tuple[Hub, int]
) -> None:
    fake, port = hub
    centre = AlertCentre(Signer())
    fake.ack_log = centre.acks  # acks over the socket are the centre's too
    centre.listed = [signed(centre.signer, fresh("MISSED"))]  # pushed while it was away
    screen = agent(tmp_path, centre, port, push_poll_seconds=300)
    running = asyncio.create_task(screen.run())
    try:
        await until(lambda: centre.states("MISSED")[-1:] == ["displayed"])
        await until(lambda: len(fake.connections) == 1)
        # Dropped push connection: the next connect asks for the list again.
        asked = centre.count("/terminal/v1/alerts")
        centre.listed.append(signed(centre.signer, fresh("LATER", level=2, colour="orange")))
        await fake.connections[-1].close()
        await until(lambda: len(fake.connections) == 2)
        await until(lambda: centre.states("LATER") == ["received", "verified"])
        assert centre.count("/terminal/v1/alerts") > asked
        assert [e["alert_id"] for e in alerts_on(screen) if e["event"] == "alert"] == ["MISSED"]
    finally:
        screen.stop()
        await running


async def test_without_push_the_list_comes_with_the_polls_and_after_an_outage(
    tmp_path: Path,
) -> None:
    centre = AlertCentre(Signer())
    screen = agent(tmp_path, centre, port=9)  # no push channel: polls every 0.3 s
    running = asyncio.create_task(screen.run())
    try:
        await until(lambda: "a" in shown(screen) and screen.http_link.up is True)
        centre.down = True
        await until(lambda: screen.http_link.up is False)
        centre.listed = [signed(centre.signer, fresh())]
        await asyncio.sleep(0.3)
        centre.down = False
        await until(lambda: centre.states("A1")[-1:] == ["displayed"])
    finally:
        screen.stop()
        await running


async def test_alerts_the_hub_lists_after_its_hello_are_taken_without_asking(
    tmp_path: Path, hub: tuple[Hub, int]
) -> None:
    fake, port = hub
    centre = AlertCentre(Signer())
    fake.ack_log = centre.acks
    missed = signed(centre.signer, fresh("MISSED"))
    centre.listed = [missed]
    screen = agent(tmp_path, centre, port, push_poll_seconds=300)
    running = asyncio.create_task(screen.run())
    try:
        await until(lambda: centre.states("MISSED")[-1:] == ["displayed"])
        await until(lambda: len(fake.connections) == 1)
        asked = centre.count("/terminal/v1/alerts")
        # Issued while it reconnects: only the hub's list has it (the GET would not).
        later = signed(centre.signer, fresh("LATER", level=2, colour="orange"))
        fake.listing = {"terminal": centre.terminal, "alerts": [missed, later]}
        await fake.connections[-1].close()
        await until(lambda: len(fake.connections) == 2)
        await until(lambda: centre.states("LATER") == ["received", "verified"])
        assert centre.count("/terminal/v1/alerts") == asked  # not asked on the reconnect
        assert [e["alert_id"] for e in alerts_on(screen) if e["event"] == "alert"] == ["MISSED"]
    finally:
        screen.stop()
        await running


async def test_outside_area_tampered_and_test_alerts_show_nothing(
    tmp_path: Path, hub: tuple[Hub, int]
) -> None:
    fake, port = hub
    centre = AlertCentre(Signer(), terminal=OUTSIDE)
    fake.ack_log = centre.acks  # acks over the socket are the centre's too
    screen = agent(tmp_path, centre, port, push_poll_seconds=300)
    running = asyncio.create_task(screen.run())
    try:
        await until(lambda: fake.connections and centre.count("/terminal/v1/alerts") >= 1)
        area = {"regions": [], "polygons": [SQUARE], "circles": []}
        await push(fake, signed(centre.signer, fresh("FAR", area=area)))
        forged = signed(centre.signer, fresh("FORGED"))
        forged["notice"] = forged["notice"].replace("就近避险", "原地不动")
        await push(fake, forged)
        await push(fake, signed(centre.signer, fresh("DRILL", status="Test")))
        await until(lambda: centre.states("DRILL") == ["received", "verified"])
        assert centre.states("FAR") == ["received", "verified", "outside-area"]
        assert centre.states("FORGED") == ["received", "failed"]
        assert [b.get("reason") for a, b in centre.acks if a == "FORGED"] == [None, "bad signature"]
        beats = screen.heartbeats
        await until(lambda: screen.heartbeats > beats)  # a heartbeat later (either way)
        assert alerts_on(screen) == []
    finally:
        screen.stop()
        await running


async def test_a_restart_does_not_show_an_alert_as_new(
    tmp_path: Path, hub: tuple[Hub, int]
) -> None:
    fake, port = hub
    centre = AlertCentre(Signer())
    fake.ack_log = centre.acks  # acks over the socket are the centre's too
    centre.listed = [signed(centre.signer, fresh())]
    first = agent(tmp_path, centre, port, push_poll_seconds=300)
    running = asyncio.create_task(first.run())
    await until(lambda: centre.states("A1")[-1:] == ["displayed"])
    first.stop()
    await running
    second = agent(tmp_path, centre, port, push_poll_seconds=300)
    running = asyncio.create_task(second.run())
    try:
        await until(lambda: len(fake.connections) == 2 and alerts_on(second))
        await push(fake, dict(centre.listed[0]))
        beats = second.heartbeats
        await until(lambda: second.heartbeats > beats)  # a heartbeat later (either way)
        assert [e["resumed"] for e in alerts_on(second)] == [True]  # back on, not new
        assert centre.states("A1") == ["received", "verified", "displayed"]
    finally:
        second.stop()
        await running


async def test_the_alert_audio_is_played_only_once_its_sha256_matched(
    tmp_path: Path, hub: tuple[Hub, int]
) -> None:
    fake, port = hub
    centre = AlertCentre(Signer())
    fake.ack_log = centre.acks  # acks over the socket are the centre's too
    voice, forged = b"ID3 spoken warning" * 50, b"ID3 other words!!!" * 50
    good_sha, bad_sha = hashlib.sha256(voice).hexdigest(), hashlib.sha256(b"x").hexdigest()
    centre.media[good_sha], centre.media[bad_sha] = voice, forged  # same size, wrong bytes

    def audio(sha: str) -> dict[str, Any]:
        url = f"http://cdn.example/media/{sha}"
        return {"mime_type": "audio/mpeg", "url": url, "sha256": sha, "size": len(voice)}

    screen = agent(tmp_path, centre, port, push_poll_seconds=300)
    running = asyncio.create_task(screen.run())
    try:
        await until(lambda: fake.connections and centre.count("/terminal/v1/alerts") >= 1)
        await announce(
            fake, centre, signed(centre.signer, fresh("FORGED-AUDIO", resources=[audio(bad_sha)]))
        )
        await until(lambda: centre.states("FORGED-AUDIO")[-1:] == ["displayed"])
        await until(lambda: screen.cache.failures.get(bad_sha) == "sha256 mismatch")
        await announce(fake, centre, cancel(centre.signer, "FORGED-AUDIO"))
        await announce(
            fake, centre, signed(centre.signer, fresh("VOICE", resources=[audio(good_sha)]))
        )
        await until(lambda: any(e["event"] == "alert-audio" for e in alerts_on(screen)))
    finally:
        screen.stop()
        await running
    events = alerts_on(screen)
    assert [e["tone"] for e in events if e["event"] == "alert"] == ["attention", "attention"]
    played = [e for e in events if e["event"] == "alert-audio"]
    assert [(e["alert_id"], e["audio"]) for e in played] == [
        ("VOICE", str(tmp_path / "media" / good_sha))
    ]


# -- the ack book ------------------------------------------------------------


class AckServer:
    def __init__(self) -> None:
        self.replies: list[int] = []  # statuses to give, then 200
        self.got: list[tuple[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        status = self.replies.pop(0) if self.replies else 200
        if status == 0:
            raise httpx.ConnectError("refused")
        if status == 200:
            alert_id = request.url.raw_path.decode().split("/")[4]
            self.got.append((alert_id, json.loads(request.content)["state"]))
        return httpx.Response(status, json={"error": {"message": str(status)}})


def sender(tmp: Path, server: AckServer) -> tuple[AckBook, AckSender]:
    client = httpx.AsyncClient(transport=httpx.MockTransport(server))
    api = TerminalApi("http://centre.example", "tok", client)
    book = AckBook(tmp / "acks.jsonl")
    return book, AckSender(book, api, Backoff(0.01, 0.05, random.Random(1)))


def ack(alert_id: str, state: str) -> Ack:
    return Ack(alert_id, state, NOW, "bad signature" if state == "failed" else None)


async def test_acks_wait_for_a_server_that_is_down_and_go_out_in_order(tmp_path: Path) -> None:
    server = AckServer()
    book, acks = sender(tmp_path, server)
    server.replies = [0, 503, 429]
    for state in ("received", "verified", "displayed"):
        book.add(ack("A/1", state))
    for _ in range(3):
        with pytest.raises(Unreachable):
            await acks.flush()
    assert len(book.pending) == 3
    await acks.flush()
    assert server.got == [("A%2F1", "received"), ("A%2F1", "verified"), ("A%2F1", "displayed")]
    assert not book.pending and acks.sent == 3


async def test_an_ack_the_server_refuses_is_dropped_not_retried_forever(tmp_path: Path) -> None:
    server = AckServer()
    book, acks = sender(tmp_path, server)
    server.replies = [404, 422]
    book.add(ack("GONE", "received"))
    book.add(ack("GONE", "failed"))
    book.add(ack("A1", "received"))
    await acks.flush()
    assert server.got == [("A1", "received")] and acks.refused == 2


async def test_pending_acks_survive_a_restart(tmp_path: Path) -> None:
    book = AckBook(tmp_path / "acks.jsonl")
    book.add(ack("A1", "received"))
    book.add(ack("A1", "failed"))
    (tmp_path / "acks.jsonl").open("a").write('{"alert_id": "cut')
    again = AckBook(tmp_path / "acks.jsonl")
    assert [(a.alert_id, a.state, a.reason) for a in again.pending] == [
        ("A1", "received", None),
        ("A1", "failed", "bad signature"),
    ]
    assert again.pending[0].at == NOW


async def test_the_sender_retries_with_backoff_until_delivered(tmp_path: Path) -> None:
    server = AckServer()
    book, acks = sender(tmp_path, server)
    server.replies = [0, 0, 500]
    running = asyncio.create_task(acks.run())
    try:
        book.add(ack("A1", "displayed"))
        await until(lambda: server.got == [("A1", "displayed")])
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
