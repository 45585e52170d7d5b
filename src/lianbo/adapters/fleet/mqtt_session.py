"""The server's MQTT 3.1.1 session with the broker, on a bare asyncio protocol.

Why not aiomqtt (the players use it): under it, paho reads one packet per
turn of the event loop. The server's loop also serves HTTP, so when
15,000 screens came online at once and fetched their manifests, each turn
was long and the server took in their ``status`` messages at about 100 a
second: minutes behind, while the broker dropped what it could not queue
for it. Here every complete packet in each chunk the socket delivers
(hundreds per read) is handled in one go, and a burst of publishes is
written without a future apiece.

Only what lianbo needs (``protocol/mqtt_wire.py``): a clean session,
username and password, QoS 0 subscriptions and publishes, keepalive pings.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import cast

from lianbo.protocol import mqtt_wire

__all__ = ["MqttError", "MqttSession", "open_session"]

TIMEOUT_S = 10.0
HIGH_WATER = 4 * 1024 * 1024  # buffered bytes before publishers wait for the socket

OnMessage = Callable[[str, bytes], None]


class MqttError(Exception):
    """The broker refused us, did not answer, or the connection ended."""


class MqttSession(asyncio.Protocol):
    """One connection to the broker (``open_session`` makes and greets it)."""

    def __init__(self, on_message: OnMessage) -> None:
        self._on_message = on_message
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        loop = asyncio.get_running_loop()
        self._connack: asyncio.Future[int] = loop.create_future()
        self._subacks: dict[int, asyncio.Future[bytes]] = {}
        self._next_id = 0
        self._writable = asyncio.Event()
        self._writable.set()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.heard = time.monotonic()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        self._transport.set_write_buffer_limits(high=HIGH_WATER)

    def data_received(self, data: bytes) -> None:
        self.heard = time.monotonic()
        self._buffer += data
        for first, body in mqtt_wire.packets(self._buffer):
            kind = first >> 4
            if kind == mqtt_wire.PUBLISH:
                topic, payload = mqtt_wire.published(first, body)
                self._on_message(topic.decode("utf-8", "replace"), payload)
            elif kind == mqtt_wire.CONNACK and not self._connack.done():
                self._connack.set_result(mqtt_wire.connack_code(body))
            elif kind == mqtt_wire.SUBACK:
                packet_id, codes = mqtt_wire.suback(body)
                waiter = self._subacks.pop(packet_id, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(codes)

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._writable.set()  # publishers waiting see the session gone
        error = MqttError(f"connection to the broker lost ({exc or 'closed'})")
        waiters: list[asyncio.Future[int] | asyncio.Future[bytes]] = [self._connack]
        for waiter in [*waiters, *self._subacks.values()]:
            if not waiter.done():
                waiter.set_exception(error)
        if not self.closed.done():
            self.closed.set_result(None)

    # what the fleet channel calls

    @property
    def open(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> bool:
        """Queue a QoS 0 publish; False when the session is gone."""
        if self._transport is None or self._transport.is_closing():
            return False
        self._transport.write(mqtt_wire.publish(topic.encode(), payload, retain=retain))
        return True

    async def writable(self) -> None:
        """Until the socket has taken most of what is queued (or the session ended)."""
        await self._writable.wait()

    async def subscribe(self, topics: list[str]) -> None:
        """Subscribe at QoS 0; MqttError if the broker refuses any topic."""
        self._next_id = self._next_id % 0xFFFF + 1
        waiter = asyncio.get_running_loop().create_future()
        self._subacks[self._next_id] = waiter
        self._write(mqtt_wire.subscribe(self._next_id, [t.encode() for t in topics]))
        try:
            async with asyncio.timeout(TIMEOUT_S):
                codes = await waiter
        except TimeoutError:
            raise MqttError("the broker did not answer a subscribe") from None
        if any(code & 0x80 for code in codes):
            raise MqttError(f"the broker refused a subscription among {topics}")

    async def keep_alive(self, keepalive_s: float) -> None:
        """Ping every half ``keepalive_s`` until the connection ends; MqttError
        when the broker has been silent for 1.5 ``keepalive_s`` (a dead link)."""
        while not self.closed.done():
            try:  # asyncio.timeout: wait_for may swallow a cancel on 3.11
                async with asyncio.timeout(keepalive_s / 2):
                    await asyncio.shield(self.closed)
            except TimeoutError:
                if time.monotonic() - self.heard > 1.5 * keepalive_s:
                    self.abort()
                    raise MqttError("the broker stopped answering") from None
                self._write(mqtt_wire.pingreq())
        raise MqttError("the broker closed the connection")

    def close(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(mqtt_wire.disconnect())
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def _write(self, data: bytes) -> None:
        if self._transport is None:
            raise MqttError("not connected to the broker")
        self._transport.write(data)

    async def login(
        self, client_id: str, username: str | None, password: str | None, keepalive_s: int
    ) -> None:
        self._write(
            mqtt_wire.connect(
                client_id.encode(),
                username.encode() if username is not None else None,
                password.encode() if password is not None else None,
                keepalive=keepalive_s,
            )
        )
        async with asyncio.timeout(TIMEOUT_S):
            code = await self._connack
        """CONNECT; MqttError unless the broker accepts it."""
        if code:
            self.abort()
            reason = mqtt_wire.REFUSED.get(code, f"code {code}")
            raise MqttError(f"the broker refused the connection: {reason}")


async def open_session(
    host: str,
    port: int,
    on_message: OnMessage,
    *,
    client_id: str,
    username: str | None = None,
    password: str | None = None,
    keepalive_s: int = 30,
) -> MqttSession:
    """Connect and log in (clean session); MqttError if that fails."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(TIMEOUT_S):
            _, session = await loop.create_connection(lambda: MqttSession(on_message), host, port)
    except (OSError, TimeoutError) as error:
        raise MqttError(f"cannot reach the broker at {host}:{port} ({error})") from None
    try:
        await session.login(client_id, username, password, keepalive_s)
    except TimeoutError:
        session.abort()
        raise MqttError("the broker did not answer the connect") from None
    return session
