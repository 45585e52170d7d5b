"""WebSocket wire format, server side (RFC 6455 §5): just what a screen's
socket needs, as pure functions over bytes.

``terminal_socket`` keeps tens of thousands of idle screens on this, so
each connection is a buffer and a few slots rather than a protocol library
object; masking uses the ``websockets`` library's C routine.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from dataclasses import dataclass
from functools import lru_cache

from websockets.utils import accept_key, apply_mask

from lianbo.api.errors import error_body

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
CONTROL = (CLOSE, PING, PONG)
DATA = (CONTINUATION, TEXT, BINARY)

# close codes (RFC 6455 §7.4.1)
NORMAL, GOING_AWAY, PROTOCOL_ERROR, INVALID_DATA = 1000, 1001, 1002, 1007
POLICY_VIOLATION, TOO_BIG, INTERNAL_ERROR, SERVICE_RESTART = 1008, 1009, 1011, 1012


class FrameError(ValueError):
    """The peer broke the protocol; close with ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Frame:
    fin: bool
    opcode: int
    payload: bytes


def read_frames(buffer: bytearray, max_size: int) -> list[Frame]:
    """Pop every complete client frame off ``buffer`` (unmasked payloads).

    ``FrameError`` for what a server must refuse: unmasked frames, reserved
    bits or opcodes, fragmented or long control frames, frames over
    ``max_size``.
    """
    frames: list[Frame] = []
    while len(buffer) >= 2:
        first, second = buffer[0], buffer[1]
        fin, opcode, size, at = bool(first & 0x80), first & 0x0F, second & 0x7F, 2
        _check_head(first, second, opcode, fin, size)
        if size == 126:
            if len(buffer) < 4:
                break
            size, at = struct.unpack_from("!H", buffer, 2)[0], 4
        elif size == 127:
            if len(buffer) < 10:
                break
            size, at = struct.unpack_from("!Q", buffer, 2)[0], 10
        if size > max_size:
            raise FrameError(TOO_BIG, "message too big")
        end = at + 4 + size
        if len(buffer) < end:
            break
        mask = bytes(buffer[at : at + 4])
        frames.append(Frame(fin, opcode, apply_mask(bytes(buffer[at + 4 : end]), mask)))
        del buffer[:end]
    return frames


def _check_head(first: int, second: int, opcode: int, fin: bool, size: int) -> None:
    if first & 0x70:
        raise FrameError(PROTOCOL_ERROR, "reserved bits set")
    if not second & 0x80:
        raise FrameError(PROTOCOL_ERROR, "client frames must be masked")
    if opcode not in CONTROL and opcode not in DATA:
        raise FrameError(PROTOCOL_ERROR, f"reserved opcode {opcode}")
    if opcode in CONTROL and (not fin or size > 125):
        raise FrameError(PROTOCOL_ERROR, "control frames are short and unfragmented")


def frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked, final server frame."""
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return head + payload


@lru_cache(maxsize=256)
def text_frame(text: str) -> bytes:
    """A text frame; cached because a fan-out sends one text to thousands."""
    return frame(TEXT, text.encode())


def close_frame(code: int, reason: str = "") -> bytes:
    return frame(CLOSE, struct.pack("!H", code) + reason.encode()[:123])


def close_code(payload: bytes) -> int:
    """The code of a received close frame (1000 when it gave none)."""
    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else NORMAL


def valid_key(key: str) -> bool:
    """A Sec-WebSocket-Key is 16 random bytes in base64."""
    try:
        return len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        return False


def switching_protocols(key: str) -> bytes:
    """The 101 answer completing the opening handshake (no extensions)."""
    return (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
    ).encode()


def refusal(status: int, reason: str) -> bytes:
    """A plain HTTP answer to a handshake that is not one."""
    body = json.dumps(error_body("bad_handshake", reason)).encode()
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
