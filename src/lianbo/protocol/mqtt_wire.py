"""MQTT 3.1.1 packets, just what lianbo's own clients need (OASIS MQTT 3.1.1).

Two clients speak it: the server's side of the MQTT fleet channel
(``adapters/fleet/mqtt_session.py``) and the simulator's virtual screens
(``sim/wire.py``). Both take packets straight off a buffer, every complete
one per read: that is why they exist (see those modules).

Clean sessions, QoS 0 publishes (a QoS 1 or 2 publish from the broker is
parsed, its packet id skipped), username/password, a will.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = [
    "CONNACK",
    "PINGRESP",
    "PUBLISH",
    "REFUSED",
    "SUBACK",
    "Will",
    "connack_code",
    "connect",
    "disconnect",
    "packets",
    "pingreq",
    "publish",
    "published",
    "suback",
    "subscribe",
]

CONNACK, PUBLISH, SUBACK, PINGRESP = 2, 3, 9, 13


def _remaining(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _string(value: bytes) -> bytes:
    return struct.pack("!H", len(value)) + value


def _packet(first: int, body: bytes) -> bytes:
    return bytes([first]) + _remaining(len(body)) + body


@dataclass(frozen=True, slots=True)
class Will:
    topic: bytes
    payload: bytes
    retain: bool = True


def connect(
    client_id: bytes,
    username: bytes | None = None,
    password: bytes | None = None,
    will: Will | None = None,
    keepalive: int = 0,
) -> bytes:
    """CONNECT with a clean session (keepalive 0: the broker never pings us)."""
    flags = 0x02
    payload = _string(client_id)
    if will is not None:
        flags |= 0x04 | (0x20 if will.retain else 0)
        payload += _string(will.topic) + _string(will.payload)
    if username is not None:
        flags |= 0x80
        payload += _string(username)
    if password is not None:
        flags |= 0x40
        payload += _string(password)
    header = _string(b"MQTT") + bytes([4, flags]) + struct.pack("!H", keepalive)
    return _packet(0x10, header + payload)


def subscribe(packet_id: int, topics: list[bytes]) -> bytes:
    """SUBSCRIBE ``topics`` at QoS 0."""
    body = struct.pack("!H", packet_id) + b"".join(_string(t) + b"\x00" for t in topics)
    return _packet(0x82, body)


def pingreq() -> bytes:
    return b"\xc0\x00"


def disconnect() -> bytes:
    return b"\xe0\x00"


def connack_code(body: bytes) -> int:
    """The CONNACK return code: 0 accepted, 1-5 refused (see ``REFUSED``)."""
    return body[1] if len(body) >= 2 else 255


REFUSED = {
    1: "unacceptable protocol version",
    2: "client identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorised",
}


def suback(body: bytes) -> tuple[int, bytes]:
    """(packet id, one return code per topic: 0-2 granted QoS, 0x80 failure)."""
    return struct.unpack_from("!H", body)[0], body[2:]


def publish(topic: bytes, payload: bytes, *, retain: bool = False) -> bytes:
    return _packet(0x30 | (0x01 if retain else 0), _string(topic) + payload)


def packets(buffer: bytearray) -> list[tuple[int, bytes]]:
    """Pop every complete (first byte, body) off ``buffer``; type = first >> 4."""
    found: list[tuple[int, bytes]] = []
    while len(buffer) >= 2:
        n, shift, at = 0, 0, 1
        while True:
            if at >= len(buffer):
                return found
            byte = buffer[at]
            n |= (byte & 0x7F) << shift
            shift, at = shift + 7, at + 1
            if not byte & 0x80:
                break
        if len(buffer) < at + n:
            break
        found.append((buffer[0], bytes(buffer[at : at + n])))
        del buffer[: at + n]
    return found


def published(first: int, body: bytes) -> tuple[bytes, bytes]:
    """(topic, payload) of a PUBLISH body (QoS 0 has no packet id)."""
    n = struct.unpack_from("!H", body)[0]
    at = 2 + n + (2 if first & 0x06 else 0)
    return body[2 : 2 + n], body[at:]
