"""How a virtual screen talks: over the hub's WebSocket (``WsScreen``) or an
MQTT broker (``MqttScreen``). What it does with what it hears is the
``Screen``'s (``screens.py``); these only frame, unframe and subscribe."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from lianbo.adapters.fleet import topics
from lianbo.protocol import mqtt_wire
from lianbo.sim import wire
from lianbo.sim.screens import Credential, Screen

if TYPE_CHECKING:
    from lianbo.sim.worker import Fleet


class WsScreen(Screen):
    __slots__ = ("upgraded",)

    def opened(self) -> None:
        self.upgraded = False
        assert self.transport is not None
        self.transport.write(
            wire.handshake(
                self.fleet.host,
                f"{self.fleet.path}?terminal={self.credential.terminal_id}",
                self.credential.token,
            )
        )

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buffer.startswith(b"HTTP/1.1 101"):
                self.fleet.counts["rejected"] += 1
                self.close()
                return
            self.upgraded = True
            del self.buffer[: end + 4]
        for opcode, payload in wire.server_frames(self.buffer):
            if opcode == wire.TEXT:
                self.on_message(payload)
            elif opcode == wire.PING:
                self._write(wire.PONG, payload)
            elif opcode == wire.CLOSE:
                self.closed_with = int.from_bytes(payload[:2], "big") if payload else 1005
                self.fleet.counts[f"closed_{self.closed_with}"] += 1
                self._write(wire.CLOSE, payload[:2])
                self.close()

    def send(self, message: dict[str, Any]) -> None:
        self._write(wire.TEXT, json.dumps(message).encode())

    def _write(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(wire.client_frame(opcode, payload))


class MqttScreen(Screen):
    __slots__ = ("audience",)

    def __init__(self, fleet: Fleet, credential: Credential, source: str) -> None:
        super().__init__(fleet, credential, source)
        self.audience: str | None = None  # known once a manifest was fetched

    def opened(self) -> None:
        c = self.credential
        status = topics.terminal(c.terminal_id, topics.STATUS).encode()
        listen = topics.subscriptions(c.terminal_id, c.region)
        if self.audience is not None:
            listen.append(topics.audience(self.audience))
        assert self.transport is not None
        self.transport.write(
            mqtt_wire.connect(
                c.terminal_id.encode(),
                c.terminal_id.encode(),
                c.token.encode(),
                mqtt_wire.Will(status, topics.OFFLINE),
            )
            + mqtt_wire.subscribe(1, [t.encode() for t in listen])
            + mqtt_wire.publish(status, topics.ONLINE, retain=True)
        )

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        for first, body in mqtt_wire.packets(self.buffer):
            kind = first >> 4
            if kind == mqtt_wire.PUBLISH:
                self.on_message(mqtt_wire.published(first, body)[1])
            elif kind == mqtt_wire.SUBACK and body[:2] == b"\x00\x01":  # not the audience one
                self.greeted(time.time())
            elif kind == mqtt_wire.CONNACK and body[1:2] != b"\x00":
                self.closed_with = 1008  # not authorised: do not hammer the broker
                self.fleet.counts["refused"] += 1
                self.close()

    def send(self, message: dict[str, Any]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            topic = topics.terminal(self.credential.terminal_id, topics.UP).encode()
            self.transport.write(mqtt_wire.publish(topic, json.dumps(message).encode()))

    def fetched(self, status: int, etag: str | None, body: bytes = b"") -> None:
        super().fetched(status, etag, body)
        if status != 200 or self.transport is None:
            return
        try:
            key = topics.audience_key(json.loads(body)["manifest"]["audience"])
        except (ValueError, KeyError, TypeError):
            self.fleet.counts["manifest_unreadable"] += 1
            return
        if key != self.audience:  # manifest changes come on the audience's topic
            self.audience = key
            self.transport.write(mqtt_wire.subscribe(2, [topics.audience(key).encode()]))
