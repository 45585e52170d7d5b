"""WS /terminal/v1/ws on the raw transport: the built-in hub's lean socket.

uvicorn hands every WebSocket upgrade to its ``ws`` protocol class; the one
``for_hub`` makes answers the screens' path itself and passes any other
path to uvicorn's own WebSocket protocol. Through ASGI an idle screen cost
~20 KB (protocol library state, kept handshake headers, a queue, an event
and a task per socket); here it is the transport, this object's slots and
the hub's entry (docs/benchmarks.md). ``fleet_ws`` stays as the ASGI path
for servers other than uvicorn and for in-process test clients; both feed
the same hub calls (authenticate, join, receive, leave).

The screen authenticates with ``Authorization: Bearer <token>`` or
``?token=``; a bad token gets the 101 and then close 1008 and nothing else;
a good one gets ``hello`` first and its alert list right after
(``WebSocketHub.greet``).
The server pings every ``PING_S`` and drops a socket that stayed silent for
two rounds (a half-open TCP connection must not keep a dead screen online).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar, cast
from urllib.parse import parse_qs

import structlog
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from lianbo.adapters.fleet.hub import WebSocketHub
from lianbo.adapters.fleet.inbox import MALFORMED, OVERSIZED
from lianbo.adapters.fleet.registry import Peer
from lianbo.api import ws_frames as wire
from lianbo.api.routes.fleet_ws import PATH

log = structlog.get_logger()

PING_S = 20.0
MAX_MESSAGE_BYTES = 1 << 20  # bigger frames close the socket (1009); over 64 KB is dropped
MAX_WRITE_BUFFER = 1 << 20  # a screen that stopped reading is dropped, not buffered for
PING = wire.frame(wire.PING, b"")
HANDSHAKE, AUTHENTICATING, OPEN, CLOSED = range(4)


class TerminalSocket(asyncio.Protocol):
    """One screen's socket (see the module docstring); bound to a hub by ``for_hub``."""

    hub: ClassVar[WebSocketHub]
    sockets: ClassVar[set[TerminalSocket]]  # open ones, for the keepalive round
    keepalive: ClassVar[asyncio.TimerHandle | None]
    opening: ClassVar[set[asyncio.Task[None]]]

    __slots__ = (
        "buffer",
        "connections",
        "delegate",
        "fragments",
        "heard",
        "peer",
        "setup",
        "state",
        "transport",
    )

    def __init__(
        self, config: Any, server_state: Any, app_state: dict[str, Any], _loop: Any = None
    ) -> None:
        self.setup: tuple[Any, Any, dict[str, Any]] | None = (config, server_state, app_state)
        self.transport: asyncio.Transport | None = None
        self.state = HANDSHAKE
        self.peer: Peer | None = None
        self.buffer: bytearray | None = None  # a partial frame waiting for its rest
        self.fragments: tuple[int, list[bytes]] | None = None  # (opcode, parts) of a message
        self.heard = 0.0
        self.delegate: asyncio.Protocol | None = None
        self.connections: set[Any] = server_state.connections
        self.connections.add(self)  # uvicorn shuts connections down on exit (``shutdown``)

    # -- asyncio.Protocol ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCPTransport is not an asyncio.Transport subclass, but acts as one
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.delegate is not None:
            self.delegate.data_received(data)
        elif self.state == HANDSHAKE:
            self._handshake(data)
        elif self.state == OPEN:
            self._read(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.delegate is not None:
            self.delegate.connection_lost(exc)
            return
        self._forget()

    def eof_received(self) -> bool | None:
        return self.delegate.eof_received() if self.delegate is not None else None

    def pause_writing(self) -> None:
        if self.delegate is not None:
            self.delegate.pause_writing()

    def resume_writing(self) -> None:
        if self.delegate is not None:
            self.delegate.resume_writing()

    def shutdown(self) -> None:
        """uvicorn is stopping: tell the screen why (1012), then close."""
        if self.state == OPEN:
            self._close(wire.SERVICE_RESTART, "server restart")
        elif self.transport is not None:
            self.transport.close()
        self._forget()

    # -- the hub's Link --------------------------------------------------------

    async def send_text(self, text: str) -> None:
        self.write_text(text)

    def write_text(self, text: str) -> None:
        """Write one text message now (fan-out needs no await per screen)."""
        if self.state != OPEN or self.transport is None or self.transport.is_closing():
            raise ConnectionResetError("terminal socket closed")
        if self.transport.get_write_buffer_size() > MAX_WRITE_BUFFER:
            self.transport.abort()
            raise ConnectionResetError("terminal socket not reading")
        self.transport.write(wire.text_frame(text))

    async def close(self, code: int, reason: str = "") -> None:
        if self.state == OPEN:
            self._close(code, reason)

    # -- opening handshake -----------------------------------------------------

    def _handshake(self, data: bytes) -> None:
        request = data.decode("latin-1")
        method, _, rest = request.partition(" ")
        target = rest.partition(" ")[0]
        path, _, query = target.partition("?")
        if path != PATH:
            self._hand_over(data)
            return
        self.setup = None
        headers = _headers(request)
        problem = _handshake_problem(method, headers)
        if problem is not None:
            self.state = CLOSED
            self._transport().write(wire.refusal(*problem))
            self._transport().close()
            return
        self.state = AUTHENTICATING
        self._transport().pause_reading()
        task = asyncio.create_task(self._open(headers["sec-websocket-key"], _token(headers, query)))
        self.opening.add(task)
        task.add_done_callback(self.opening.discard)

    def _hand_over(self, data: bytes) -> None:
        """Not a screen's socket: uvicorn's own WebSocket protocol serves it."""
        assert self.setup is not None
        config, server_state, app_state = self.setup
        self.connections.discard(self)
        self.setup = None
        self.delegate = WebSocketsSansIOProtocol(
            config=config, server_state=server_state, app_state=app_state
        )
        self.delegate.connection_made(self._transport())
        self.delegate.data_received(data)

    async def _open(self, key: str, token: str | None) -> None:
        transport = self._transport()
        refusal = (wire.POLICY_VIOLATION, "unknown or revoked terminal token")
        try:
            peer = await self.hub.authenticate(token)
        except Exception:  # the store is down: say so rather than fail the handshake
            log.exception("fleet socket authentication failed")
            peer, refusal = None, (wire.INTERNAL_ERROR, "try again later")
        if self.state != AUTHENTICATING or transport.is_closing():
            return  # the screen left (or the server stopped) meanwhile
        transport.write(wire.switching_protocols(key))
        self.state = OPEN
        if peer is None:
            self._close(*refusal)
            return
        self.peer = peer
        self.heard = time.monotonic()
        transport.write(wire.frame(wire.TEXT, self.hub.greet(peer, self).encode()))
        transport.resume_reading()
        type(self).sockets.add(self)
        _keep_alive(type(self))

    # -- frames ----------------------------------------------------------------

    def _read(self, data: bytes) -> None:
        buffer = self.buffer if self.buffer is not None else bytearray()
        buffer += data
        try:
            frames = wire.read_frames(buffer, MAX_MESSAGE_BYTES)
        except wire.FrameError as error:
            self._refuse(error.code, error.reason)
            return
        self.buffer = buffer or None
        self.heard = time.monotonic()
        for frame in frames:
            if self.state != OPEN:
                break
            self._frame(frame)

    def _frame(self, frame: wire.Frame) -> None:
        if frame.opcode == wire.PING:
            self._transport().write(wire.frame(wire.PONG, frame.payload))
        elif frame.opcode == wire.CLOSE:
            self._close(wire.close_code(frame.payload))
        elif frame.opcode != wire.PONG:
            message = self._assemble(frame)
            if message is not None:
                self._message(*message)

    def _assemble(self, frame: wire.Frame) -> tuple[int, bytes] | None:
        """A whole message once its last fragment is in."""
        if frame.opcode == wire.CONTINUATION:
            if self.fragments is None:
                self._refuse(wire.PROTOCOL_ERROR, "continuation without a message")
                return None
            opcode, parts = self.fragments
            parts.append(frame.payload)
            if sum(map(len, parts)) > MAX_MESSAGE_BYTES:
                self._refuse(wire.TOO_BIG, "message too big")
                return None
            if not frame.fin:
                return None
            self.fragments = None
            return opcode, b"".join(parts)
        if self.fragments is not None:
            self._refuse(wire.PROTOCOL_ERROR, "a new message inside a fragmented one")
            return None
        if not frame.fin:
            self.fragments = (frame.opcode, [frame.payload])
            return None
        return frame.opcode, frame.payload

    def _message(self, opcode: int, payload: bytes) -> None:
        raw: str | bytes = payload
        if opcode == wire.TEXT:
            try:
                raw = payload.decode()
            except UnicodeDecodeError:
                self._refuse(wire.INVALID_DATA, "text is not UTF-8")
                return
        assert self.peer is not None
        reply = self.hub.receive(self.peer, raw)
        if reply is not None:
            self._transport().write(wire.frame(wire.TEXT, reply.encode()))

    # -- closing ---------------------------------------------------------------

    def _refuse(self, code: int, reason: str) -> None:
        """Close for what a screen sent that no message can be made of,
        counted with the hub's refused messages (``/metrics``)."""
        self.hub.inbox.refuse(OVERSIZED if code == wire.TOO_BIG else MALFORMED)
        self._close(code, reason)

    def _close(self, code: int, reason: str = "") -> None:
        """Send a close frame and end the connection (the peer's close reply
        is not awaited: nothing more is read from a closing screen)."""
        self.state = CLOSED
        transport = self._transport()
        if not transport.is_closing():
            transport.write(wire.close_frame(code if _sendable(code) else wire.NORMAL, reason))
            transport.close()
        self._forget()

    def _forget(self) -> None:
        self.state = CLOSED
        type(self).sockets.discard(self)
        self.connections.discard(self)
        self.setup = None
        if self.peer is not None:
            self.hub.leave(self.peer, self)
            self.peer = None
        self.buffer = self.fragments = None

    def _transport(self) -> asyncio.Transport:
        assert self.transport is not None
        return self.transport


def for_hub(hub: WebSocketHub) -> type[TerminalSocket]:
    """The uvicorn ``ws`` protocol class serving ``hub``'s screens."""
    attributes = {"__slots__": (), "hub": hub, "sockets": set(), "opening": set()}
    return type("HubSocket", (TerminalSocket,), {**attributes, "keepalive": None})


def _keep_alive(kind: type[TerminalSocket]) -> None:
    if kind.keepalive is None:
        kind.keepalive = asyncio.get_running_loop().call_later(PING_S, _ping_round, kind)


def _ping_round(kind: type[TerminalSocket]) -> None:
    """Ping every open socket; drop those silent for two rounds."""
    kind.keepalive = None
    silent_since = time.monotonic() - 2 * PING_S
    for socket in list(kind.sockets):
        transport = socket.transport
        if transport is None or transport.is_closing():
            kind.sockets.discard(socket)
        elif socket.heard < silent_since:
            transport.abort()  # connection_lost follows and forgets it
        else:
            transport.write(PING)
    if kind.sockets:
        _keep_alive(kind)


def _headers(request: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in request.split("\r\n")[1:]:
        if not line:
            break
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


def _handshake_problem(method: str, headers: dict[str, str]) -> tuple[int, str] | None:
    connection = {part.strip().lower() for part in headers.get("connection", "").split(",")}
    if method != "GET" or headers.get("upgrade", "").lower() != "websocket":
        return 400, "not a WebSocket handshake"
    if "upgrade" not in connection:
        return 400, "Connection: Upgrade missing"
    if headers.get("sec-websocket-version") != "13":
        return 426, "WebSocket version 13 only"
    if not wire.valid_key(headers.get("sec-websocket-key", "")):
        return 400, "bad Sec-WebSocket-Key"
    return None


def _token(headers: dict[str, str], query: str) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    found = parse_qs(query).get("token")
    return found[0] if found else None


def _sendable(code: int) -> bool:
    """Codes a close frame may carry (1005, 1006, 1015 are never sent)."""
    return code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012) or (
        3000 <= code < 5000
    )
