"""WS /terminal/v1/ws: the built-in hub's socket endpoint.

Served before routing, like the manifest fast path: a screen keeps its
socket for hours, and every framework layer between the server and this
handler stays alive for as long — routing, exception and exit-stack
wrappers cost about 5 KB per connected screen, a quarter of the budget.

The screen authenticates with ``Authorization: Bearer <token>`` or, for
browsers (which cannot set headers on a WebSocket), ``?token=``. A bad
token is accepted and closed with 1008 (policy violation) and nothing
else, so a browser sees the reason; a good one gets ``hello`` first (with
its alert list right after: ``WebSocketHub.greet``).
"""

from __future__ import annotations

from urllib.parse import parse_qs

import structlog
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from lianbo.adapters.fleet.hub import POLICY_VIOLATION, WebSocketHub
from lianbo.domain.ports import FleetChannel

log = structlog.get_logger()

PATH = "/terminal/v1/ws"
INTERNAL_ERROR = 1011


class FleetSockets:
    """ASGI middleware answering WebSockets on ``PATH`` with the hub."""

    def __init__(self, app: ASGIApp, hub: WebSocketHub) -> None:
        self.app = app
        self.hub = hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == PATH:
            await serve(self.hub, scope, receive, send)
        else:
            await self.app(scope, receive, send)


def install(app: FastAPI, fleet: FleetChannel) -> None:
    """Serve the socket endpoint when the fleet channel is the built-in hub."""
    if isinstance(fleet, WebSocketHub):
        app.add_middleware(FleetSockets, hub=fleet)


class AsgiLink:
    __slots__ = ("_send", "early")

    def __init__(self, send: Send) -> None:
        self._send = send
        self.early: list[str] | None = None  # while greeting: pushes wait here

    async def send_text(self, text: str) -> None:
        if self.early is not None:
            self.early.append(text)
            return
        await self._send({"type": "websocket.send", "text": text})

    async def greet(self, hello: str) -> None:
        """The ``hello``, then what was pushed while it was being sent, in order."""
        await self._send({"type": "websocket.send", "text": hello})
        while self.early:
            await self._send({"type": "websocket.send", "text": self.early.pop(0)})
        self.early = None

    async def close(self, code: int, reason: str = "") -> None:
        await self._send({"type": "websocket.close", "code": code, "reason": reason})


def token_of(scope: Scope) -> str | None:
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    query: bytes = scope.get("query_string", b"")
    found = parse_qs(query.decode("latin-1")).get("token")
    return found[0] if found else None


async def serve(hub: WebSocketHub, scope: Scope, receive: Receive, send: Send) -> None:
    if (await receive())["type"] != "websocket.connect":
        return
    link = AsgiLink(send)
    try:
        peer = await hub.authenticate(token_of(scope))
    except Exception:  # the store is down: say so rather than fail the handshake
        log.exception("fleet socket authentication failed")
        await send({"type": "websocket.accept"})
        await link.close(INTERNAL_ERROR, "try again later")
        return
    await send({"type": "websocket.accept"})
    if peer is None:
        await link.close(POLICY_VIOLATION, "unknown or revoked terminal token")
        return
    try:  # from here on this frame lives as long as the socket: keep it small
        link.early = []  # the alert list, sent by the hub, waits for the hello
        await link.greet(hub.greet(peer, link))
        while (message := await receive())["type"] == "websocket.receive":
            text = message.get("text")
            reply = hub.receive(peer, text if text is not None else message.get("bytes") or b"")
            del message, text
            if reply is not None:
                await link.send_text(reply)
                del reply
    except (OSError, RuntimeError):  # gone mid-send (ClientDisconnected), or closed by the hub
        pass
    finally:
        hub.leave(peer, link)
