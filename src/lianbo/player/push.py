"""The push channel: a WebSocket to ``/terminal/v1/ws`` (optional).

When it is up, the control centre tells the screen at once that a new
manifest is out, asks for screenshots, reloads, restarts, and answers time
requests (for the clock offset). When it is not there (connection refused,
404 from a server without a hub, a proxy that drops WebSockets) the agent
simply polls; this channel keeps retrying with jittered backoff and never
holds up playback.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from lianbo.player.api import transport_failure
from lianbo.player.backoff import Backoff, Link
from lianbo.player.clock import Clock, OffsetEstimator
from lianbo.protocol.messages import (
    MAX_MESSAGE_BYTES,
    SERVER_TYPES,
    MalformedMessage,
    Message,
    decode,
)

log = logging.getLogger("lianbo.player")

Handler = Callable[[Message], Awaitable[None]]


class PushChannel:
    """Keeps one WebSocket open, hands server messages to ``handler``."""

    # The hub greets every connection with a ``hello`` and then lists the
    # screen's alerts (no ``GET /terminal/v1/alerts`` on a reconnect); MQTT
    # does not.
    greets = True

    def __init__(
        self,
        url: str,
        token: str,
        handler: Handler,
        *,
        clock: Clock,
        estimator: OffsetEstimator,
        backoff: Backoff,
        on_connect: Callable[[], Awaitable[None]] | None = None,
        tls: ssl.SSLContext | None = None,
        time_burst: int = 5,
        time_spacing: float = 0.2,
        time_every: float = 300.0,
    ) -> None:
        self.url = url
        self.token = token
        self.handler = handler
        self.clock = clock
        self.estimator = estimator
        self.backoff = backoff
        self.on_connect = on_connect
        # wss:// only: checks the server's certificate (tls.server_context)
        self.tls = tls if url.startswith("wss://") else None
        self.time_burst = time_burst
        self.time_spacing = time_spacing
        self.time_every = time_every
        self.link = Link("push channel")
        self.received = 0
        self._ws: ClientConnection | None = None

    @property
    def connected(self) -> bool:
        return self._ws is not None

    async def send(self, message: Message) -> bool:
        """Send when connected; False when there is no channel right now."""
        ws = self._ws
        if ws is None:
            return False
        try:
            await ws.send(message.encode())
        except ConnectionClosed:
            return False
        return True

    async def run(self) -> None:
        """Connect, serve, reconnect after a backoff delay; forever."""
        while True:
            try:
                await self._session()
                self.link.failed("closed by the server")
            except InvalidStatus as error:
                self.link.failed(f"not available (HTTP {error.response.status_code})")
            except (OSError, TimeoutError, WebSocketException) as error:
                self.link.failed(transport_failure(error))
            await asyncio.sleep(self.backoff.next_delay())

    async def _session(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with connect(
            self.url,
            additional_headers=headers,
            open_timeout=10,
            max_size=MAX_MESSAGE_BYTES,
            ping_interval=20,
            ping_timeout=20,
            ssl=self.tls,
        ) as ws:
            self._ws = ws
            sampler = asyncio.create_task(self._sample_time(ws))
            try:
                if self.on_connect is not None:
                    await self.on_connect()
                async for raw in ws:
                    await self._receive(raw)
            finally:
                self._ws = None
                sampler.cancel()

    async def _receive(self, raw: str | bytes) -> None:
        try:
            message = decode(raw, allowed=SERVER_TYPES)
        except MalformedMessage as error:
            log.warning("push message dropped: %s", error)
            return
        # A server that sends sensible messages is a working channel: only now
        # is the link up and the backoff forgiven — not on a socket accepted
        # and closed at once (the hub does that to a revoked token).
        self.received += 1
        self.backoff.reset()
        if self.link.up is not True:
            self.link.ok()
        if message.type == "time":
            self._time_sample(message)
            return
        try:
            await self.handler(message)
        except Exception:  # one bad message must not drop the channel
            log.exception("push message %s failed", message.type)

    def _time_sample(self, message: Message) -> None:
        t1 = self.clock.time()
        t0, server_time = message.body.get("t0"), message.body.get("server_time")
        if isinstance(t0, int | float) and isinstance(server_time, int | float):
            self.estimator.add(float(t0), float(server_time), t1)

    async def _sample_time(self, ws: ClientConnection) -> None:
        """A burst of time requests on connect, then one now and then."""
        sent = 0
        while True:
            try:
                await ws.send(Message("time", {"t0": self.clock.time()}).encode())
            except ConnectionClosed:
                return
            sent += 1
            await asyncio.sleep(self.time_spacing if sent < self.time_burst else self.time_every)
