"""Just enough WebSocket (RFC 6455, client side) to be a screen; MQTT 3.1.1
is in ``protocol/mqtt_wire.py``.

Hand-rolled on purpose: at 10,000 connections the simulator's own client
cost decides what gets measured (see the fan-out anchors), so a virtual
screen is a few bytes of state and a parser, not a client library.
"""

from __future__ import annotations

import base64
import os
import struct

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
