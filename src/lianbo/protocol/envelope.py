"""The signed envelope around a manifest, taken apart without re-serialising.

``{"manifest":<canonical JSON>,"signature":"<b64>","key_id":"…","server_time":"…"}``:
``split`` returns each member's exact source text, so the manifest bytes
checked against the signature are the bytes the server signed — whatever
order or spacing the envelope itself uses.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

_WHITESPACE = frozenset(" \t\n\r")
_DECODER = json.JSONDecoder()


class Rejected(Exception):
    """Signed data a screen must not use; ``reason`` is a short, stable word
    group for status reports and alarms, ``detail`` says more."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class MalformedEnvelope(ValueError):
    """Not a JSON object of unique members, or a member of the wrong type."""


@dataclass(frozen=True, slots=True)
class Envelope:
    text: str
    manifest: str | None  # the manifest's exact source text
    signature: str  # "" when missing
    key_id: str  # "" when missing
    server_time: str | None


def split(envelope: str | bytes) -> Envelope:
    """The envelope's members; MalformedEnvelope when it is not one."""
    if isinstance(envelope, bytes):
        try:
            envelope = envelope.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedEnvelope("the envelope is not UTF-8") from None
    members = _members(envelope)
    return Envelope(
        text=envelope,
        manifest=members.get("manifest"),
        signature=_string(members.get("signature")),
        key_id=_string(members.get("key_id")),
        server_time=_string(members.get("server_time")) or None,
    )


def signature_valid(data: bytes, signature_b64: str, public_key_b64: str) -> bool:
    """Whether ``signature_b64`` is an Ed25519 signature of ``data`` by the
    raw 32-byte public key ``public_key_b64`` (both base64)."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
        public.verify(signature, data)
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def _members(text: str) -> dict[str, str]:
    members: dict[str, str] = {}
    try:
        index = _skip(text, 0)
        if text[index : index + 1] != "{":
            raise ValueError("not an object")
        index = _skip(text, index + 1)
        while text[index : index + 1] != "}":
            key, index = _DECODER.raw_decode(text, index)
            index = _skip(text, index)
            if not isinstance(key, str) or text[index : index + 1] != ":":
                raise ValueError("expected a key and ':'")
            start = _skip(text, index + 1)
            _, end = _DECODER.raw_decode(text, start)
            if key in members:
                raise ValueError(f"duplicate member {key!r}")
            members[key] = text[start:end]
            index = _skip(text, end)
            if text[index : index + 1] == ",":
                index = _skip(text, index + 1)
            elif text[index : index + 1] != "}":
                raise ValueError("expected ',' or '}'")
        if text[index + 1 :].strip():
            raise ValueError("data after the envelope")
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        raise MalformedEnvelope(f"envelope: {error}") from None
    return members


def _skip(text: str, index: int) -> int:
    """The index of the first non-whitespace character at or after ``index``."""
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index


def _string(source: str | None) -> str:
    """A member's JSON string value ("" when the member is missing or null)."""
    value = json.loads(source) if source is not None else None
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedEnvelope("signature, key_id and server_time are strings")
    return value
