"""Just enough WebSocket (RFC 6455, client side) and MQTT 3.1.1 to be a screen.

Hand-rolled on purpose: at 10,000 connections the simulator's own client
cost decides what gets measured (see the fan-out anchors), so a virtual
screen is a few bytes of state and a parser, not a client library.
"""

from __future__ import annotations

import base64
import os
import struct
from dataclasses import dataclass

# WebSocket ---------------------------------------------------------------

TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA
HANDSHAKE_KEY = base64.b64encode(os.urandom(16)).decode()  # the server checks form only


def handshake(host: str, path: str, token: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {HANDSHAKE_KEY}\r\n"
        f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (clients must mask; the mask may be anything)."""
    n = len(payload)
    mask = os.urandom(4)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    masked = (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big") if n else b""
    return head + mask + masked


def server_frames(buffer: bytearray) -> list[tuple[int, bytes]]:
    """Pop every complete (unmasked, unfragmented) frame off ``buffer``."""
    frames = []
    while len(buffer) >= 2:
        opcode, n, at = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
        if n == 126:
            if len(buffer) < 4:
                break
            n, at = struct.unpack_from("!H", buffer, 2)[0], 4
        elif n == 127:
            if len(buffer) < 10:
                break
            n, at = struct.unpack_from("!Q", buffer, 2)[0], 10
        if len(buffer) < at + n:
            break
        frames.append((opcode, bytes(buffer[at : at + n])))
        del buffer[: at + n]
    return frames


# MQTT 3.1.1 --------------------------------------------------------------

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
    body = struct.pack("!H", packet_id) + b"".join(_string(t) + b"\x00" for t in topics)
    return _packet(0x82, body)


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
