"""The screens' lean socket (api/terminal_socket.py) on a real uvicorn: the
wire protocol byte by byte, heartbeats over the socket, keepalive, shutdown."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import time
from types import SimpleNamespace
from typing import Any

import pytest
from websockets.asyncio.client import connect

from lianbo.api import terminal_socket
from lianbo.domain.roles import Role
from lianbo.protocol.messages import command
from lianbo.sim.wire import CLOSE, PING, PONG, TEXT, client_frame, server_frames
from tests.integration.fleet.conftest import Served
from tests.integration.fleet.test_hub import next_message
from tests.support.waiting import HANG_GUARD_S, until

pytestmark = pytest.mark.integration

PATH = "/terminal/v1/ws"


class RawScreen:
    """A hand-driven client: exact bytes out, frames in."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.buffer = bytearray()

    @classmethod
    async def open(cls, served: Served, request: bytes) -> tuple[RawScreen, bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
        writer.write(request)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HANG_GUARD_S)
        return cls(reader, writer), head

    async def frame(self, within: float = HANG_GUARD_S) -> tuple[int, bytes]:
        while True:
            frames = server_frames(self.buffer)
            if frames:
                first = frames[0]
                # put back what came after the first frame
                rest = b"".join(_unframed(op, p) for op, p in frames[1:])
                self.buffer[:0] = rest
                return first
            chunk = await asyncio.wait_for(self.reader.read(65536), within)
            if not chunk:
                raise ConnectionResetError("closed")
            self.buffer += chunk

    async def message(self) -> dict[str, Any]:
        while True:
            opcode, payload = await self.frame()
            if opcode == TEXT:
                message: dict[str, Any] = json.loads(payload)
                return message

    async def close_code(self) -> int:
        while True:
            opcode, payload = await self.frame()
            if opcode == CLOSE:
                code: int = struct.unpack("!H", payload[:2])[0]
                return code

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    def close(self) -> None:
        self.writer.close()


def fragment(opcode: int, payload: bytes) -> bytes:
    """A masked frame without FIN: more of the message follows."""
    data = bytearray(client_frame(opcode, payload))
    data[0] &= 0x7F
    return bytes(data)


def _unframed(opcode: int, payload: bytes) -> bytes:
    size = len(payload)
    head = struct.pack("!BB", 0x80 | opcode, size) if size < 126 else b""
    assert head, "only short frames are put back"
    return head + payload


def upgrade(token: str | None = None, *, path: str = PATH, **changes: str) -> bytes:
    headers = {
        "Host": "x",
        "Upgrade": "websocket",
        "Connection": "keep-alive, Upgrade",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        "Sec-WebSocket-Version": "13",
        **({"Authorization": f"Bearer {token}"} if token else {}),
        **changes,
    }
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items() if v)
    return f"GET {path} HTTP/1.1\r\n{lines}\r\n".encode()


async def opened(served: Served, token: str, *, listed: bool = True) -> RawScreen:
    """A greeted socket; ``listed``: its alert list (after the hello) read too."""
    screen, head = await RawScreen.open(served, upgrade(token))
    assert head.startswith(b"HTTP/1.1 101"), head
    assert (await screen.message())["type"] == "hello"
    if listed:
        assert (await screen.message())["type"] == "alerts"
    return screen


async def screen_token(served: Served) -> tuple[str, str]:
    admin = await served.env.as_role(Role.ADMIN)
    return await served.screen(admin)


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"Sec-WebSocket-Key": "too-short"}, b"400"),
        ({"Sec-WebSocket-Key": ""}, b"400"),
        ({"Sec-WebSocket-Version": "8"}, b"426"),
        ({"Connection": "keep-alive"}, None),  # not an upgrade at all: plain HTTP answers
    ],
)
async def test_a_broken_handshake_gets_a_plain_http_error(
    served: Served, changes: dict[str, str], status: bytes | None
) -> None:
    _, token = await screen_token(served)
    screen, head = await RawScreen.open(served, upgrade(token, **changes))
    assert not head.startswith(b"HTTP/1.1 101"), head
    if status is not None:
        assert head.split(b" ")[1] == status
        body = await asyncio.wait_for(screen.reader.read(), HANG_GUARD_S)
        assert json.loads(body)["error"]["code"] == "bad_handshake"
    assert served.env.container.fleet.connected() == 0  # type: ignore[attr-defined]
    screen.close()


async def test_frames_ping_fragments_and_close(served: Served) -> None:
    _, token = await screen_token(served)
    screen = await opened(served, token)
    screen.send(client_frame(PING, b"are you there"))
    assert await screen.frame() == (PONG, b"are you there")
    # a time request split over three fragments (text, continuation, final continuation)
    body = json.dumps({"type": "time", "t0": 5.0}).encode()
    first, middle, last = body[:4], body[4:9], body[9:]
    screen.send(fragment(TEXT, first) + fragment(0x0, middle) + client_frame(0x0, last))
    reply = await screen.message()
    assert reply["type"] == "time" and reply["t0"] == 5.0
    screen.send(client_frame(CLOSE, struct.pack("!H", 1000)))
    assert await screen.close_code() == 1000
    await until(lambda: served.env.container.fleet.connected() == 0)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (b"\x81\x05hello", 1002),  # unmasked
        (client_frame(TEXT, b"\xff\xfe\xfd"), 1007),  # not UTF-8
        (b"\xc1" + client_frame(TEXT, b"{}")[1:], 1002),  # reserved bit
        (client_frame(0x3, b"x"), 1002),  # reserved opcode
        (client_frame(0x0, b"x"), 1002),  # continuation without a message
        (struct.pack("!BBQ", 0x81, 0x80 | 127, 2 << 20) + b"mask", 1009),  # 2 MB frame
    ],
    # Named, not by their bytes: client frames carry a random mask, and
    # every test process (pytest-xdist) must collect the same ids.
    ids=["unmasked", "not-utf8", "reserved-bit", "reserved-opcode", "lone-continuation", "2mb"],
)
async def test_a_protocol_violation_closes_with_its_code(
    served: Served, frame: bytes, code: int
) -> None:
    _, token = await screen_token(served)
    screen = await opened(served, token)
    inbox = served.env.container.fleet.inbox  # type: ignore[attr-defined]
    refused = inbox.dropped
    screen.send(frame)
    assert await screen.close_code() == code
    await until(lambda: served.env.container.fleet.connected() == 0)  # type: ignore[attr-defined]
    assert inbox.refused["oversized" if code == 1009 else "malformed"] == 1  # counted, by reason
    assert inbox.dropped == refused + 1


async def test_a_status_message_is_a_heartbeat(served: Served) -> None:
    terminal_id, token = await screen_token(served)
    before = served.env.container.monitor.counters.heartbeats
    async with connect(f"{served.ws_url}?token={token}") as ws:
        await next_message(ws)
        await ws.send(json.dumps({"type": "status", "clock_offset_ms": 12, "playing": "a1"}))
        reply = await next_message(ws)
        assert reply["type"] == "heartbeat" and reply["heartbeat_seconds"] == 30
        assert abs(reply["server_time"] - served.env.container.clock.now().timestamp()) < 5
        await served.env.container.monitor.settle()
        async with served.env.container.uow() as uow:
            report = await uow.reports.latest(terminal_id)
        assert report is not None and report.status["playing"] == "a1"
        assert served.env.container.monitor.counters.heartbeats == before + 1
        for _ in range(5):  # a flood: the bucket holds three, then refusals
            await ws.send(json.dumps({"type": "status"}))
        replies = [await next_message(ws) for _ in range(5)]
        refused = [r for r in replies if "refused" in r]
        assert refused and all(r["retry_after"] >= 1 for r in refused)
        assert served.env.container.monitor.counters.heartbeats < before + 6


async def test_another_websocket_path_is_served_by_uvicorn(served: Served) -> None:
    screen, head = await RawScreen.open(served, upgrade(path="/api/v1/nothing-here"))
    assert head.split(b" ")[1] in (b"403", b"404"), head
    screen.close()


async def test_a_silent_socket_is_pinged_then_dropped(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The test runs the ping rounds on a clock it moves: with real rounds a
    # loaded machine could stall the lively screen's pong past two rounds.
    monkeypatch.setattr(terminal_socket, "PING_S", 3600.0)  # no round of its own
    now = [time.monotonic()]
    monkeypatch.setattr(terminal_socket, "time", SimpleNamespace(monotonic=lambda: now[0]))
    fleet: Any = served.env.container.fleet
    _, token = await screen_token(served)
    lively_id, other = await screen_token(served)
    silent = await opened(served, token)
    lively = await opened(served, other)
    [kind] = {type(c) for c in _connections(served)}

    def ping_round_after(seconds: float) -> None:
        now[0] += seconds
        terminal_socket._ping_round(kind)

    def heard(terminal_id: str) -> float:
        [found] = [c.heard for c in _connections(served) if c.peer.terminal_id == terminal_id]
        return float(found)

    ping_round_after(terminal_socket.PING_S)
    assert (await silent.frame())[0] == PING  # pinged...
    assert (await lively.frame())[0] == PING
    lively.send(client_frame(PONG, b""))  # ... the lively one answers, the silent one does not
    await until(lambda: heard(lively_id) == now[0])
    ping_round_after(terminal_socket.PING_S + 1)  # the silent one: silent for two rounds
    await until(lambda: fleet.connected() == 1)
    with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
        while True:
            await silent.frame()
    assert (await lively.frame())[0] == PING  # the lively one is pinged again
    lively.close()


async def test_server_shutdown_says_service_restart(served: Served) -> None:
    _, token = await screen_token(served)
    screen = await opened(served, token)
    kind: Any = served.env.container.fleet
    sockets = [c for c in _connections(served) if isinstance(c, terminal_socket.TerminalSocket)]
    assert len(sockets) == 1 and kind.connected() == 1
    sockets[0].shutdown()
    assert await screen.close_code() == 1012
    assert kind.connected() == 0


def _connections(served: Served) -> list[Any]:
    found = [
        c
        for kind in terminal_socket.TerminalSocket.__subclasses__()
        if kind.hub is served.env.container.fleet
        for c in kind.sockets
    ]
    return found


async def test_retire_edit_and_reenrol_end_the_socket_at_once(served: Served) -> None:
    env = served.env
    admin = await env.as_role(Role.ADMIN)
    ids_tokens = [await served.screen(admin) for _ in range(3)]
    sockets = [await opened(served, token) for _, token in ids_tokens]
    (edited, _), (reenrolled, _), (retired, _) = ids_tokens

    renamed = await env.client.patch(
        f"/api/v1/terminals/{edited}", json={"name": "改名的屏"}, headers=admin
    )
    assert renamed.status_code == 200, renamed.text
    assert await sockets[0].close_code() == 4002  # reconnect: filed afresh

    code = await env.client.post(f"/api/v1/terminals/{reenrolled}/enrolment-code", headers=admin)
    assert code.status_code == 201, code.text
    enrolled = await env.client.post(
        "/terminal/v1/enrol", json={"code": code.json()["enrolment_code"]}
    )
    assert enrolled.status_code == 200, enrolled.text
    assert await sockets[1].close_code() == 1008  # the old token is gone

    gone = await env.client.post(f"/api/v1/terminals/{retired}/retire", headers=admin)
    assert gone.status_code == 200, gone.text
    assert await sockets[2].close_code() == 1008
    await until(lambda: served.env.container.fleet.connected() == 0)  # type: ignore[attr-defined]
    again, head = await RawScreen.open(served, upgrade(ids_tokens[2][1]))
    assert head.startswith(b"HTTP/1.1 101") and await again.close_code() == 1008


async def test_a_deeply_nested_message_is_dropped_and_the_socket_lives_on(
    served: Served,
) -> None:
    """Deeper than Python's recursion limit: once a RecursionError out of the
    protocol's data handler. Now a malformed message like any other."""
    _, token = await screen_token(served)
    screen = await opened(served, token)
    screen.send(client_frame(TEXT, b'{"type":"status","x":' + b"[" * 5_000))
    screen.send(client_frame(TEXT, json.dumps({"type": "time", "t0": 7.0}).encode()))
    reply = await screen.message()
    assert reply["type"] == "time" and reply["t0"] == 7.0
    assert served.env.container.fleet.connected() == 1  # type: ignore[attr-defined]
    screen.close()


async def test_the_hello_comes_at_once_and_the_alert_list_after_it(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The screen is greeted before the store is read (ADR 0021); the list
    follows, and a push filed meanwhile reaches it too."""
    fleet: Any = served.env.container.fleet
    reading, go_on = asyncio.Event(), asyncio.Event()

    async def slow_greeting(terminal_id: str) -> dict[str, Any]:
        reading.set()
        await go_on.wait()
        return {"terminal": {"id": terminal_id}, "alerts": []}

    monkeypatch.setattr(fleet, "_greeting", slow_greeting)
    terminal_id, token = await screen_token(served)
    screen = await opened(served, token, listed=False)  # greeted; the list is being read
    await reading.wait()
    assert await fleet.send([terminal_id], command("c1", "reload")) == 1
    assert await screen.message() == {"type": "command", "id": "c1", "command": "reload"}
    go_on.set()
    listed = {"type": "alerts", "terminal": {"id": terminal_id}, "alerts": []}
    assert await screen.message() == listed
    screen.close()
