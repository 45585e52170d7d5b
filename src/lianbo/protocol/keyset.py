"""Signed key sets: how a screen learns the control centre's keys change.

A screen pins the keys it got at enrolment. It takes a new set only when a
key it already trusts signed it (old signs new), and only a newer one
(``serial`` higher than the pinned set's), so a man in the middle can
neither introduce his own key nor replay an old set that still held a
retired one. ``GET /terminal/v1/keys`` (and the enrolment reply) carry::

    {"keys": [{"key_id", "public_key"}, ...],          # as before (v0 players)
     "key_set": "<canonical JSON of the set>",          # exactly the signed bytes
     "signatures": [{"key_id", "signature"}, ...]}      # Ed25519 over those bytes

The set itself (canonical JSON: sorted keys, no spaces)::

    {"v": 1, "kind": "key-set", "serial": 3, "issued_at": "<RFC 3339>",
     "active": "<key_id>", "keys": [{"key_id", "public_key"}, ...]}

``active`` signs manifests and notices now; the others stay trusted during
a changeover. The set travels as a JSON string (like alert notices), so its
signed bytes are never re-serialised.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lianbo.domain.canonical import canonical_json
from lianbo.protocol.envelope import Rejected, signature_valid

KEY_SET_VERSION = 1
KIND = "key-set"
MAX_KEYS = 16  # a changeover holds a few keys, never a catalogue


class KeySetRejected(Rejected):
    """A key set a screen must not adopt: "missing", "malformed", "untrusted"
    (no signature by a pinned key) or "stale" (not newer than the pinned set)."""


@dataclass(frozen=True, slots=True)
class KeySet:
    """A verified (or freshly made) key set."""

    serial: int
    issued_at: str
    active: str
    keys: dict[str, str]  # key_id → raw Ed25519 public key, base64

    def body(self) -> dict[str, Any]:
        """The set as signed (before canonical encoding)."""
        return {
            "v": KEY_SET_VERSION,
            "kind": KIND,
            "serial": self.serial,
            "issued_at": self.issued_at,
            "active": self.active,
            "keys": [{"key_id": k, "public_key": v} for k, v in sorted(self.keys.items())],
        }

    def text(self) -> str:
        """The canonical JSON text that is signed and sent."""
        return canonical_json(self.body()).decode("utf-8")


def wire(key_set_text: str, signatures: dict[str, str], keys: dict[str, str]) -> dict[str, Any]:
    """The JSON of ``/terminal/v1/keys``: the old ``keys`` list plus the signed set."""
    return {
        "keys": [{"key_id": k, "public_key": v} for k, v in keys.items()],
        "key_set": key_set_text,
        "signatures": [{"key_id": k, "signature": s} for k, s in sorted(signatures.items())],
    }


def parse(text: str) -> KeySet:
    """The set in ``text`` without checking any signature (KeySetRejected)."""
    try:
        data = json.loads(text)
    except ValueError:
        raise KeySetRejected("malformed", "not JSON") from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise KeySetRejected("malformed", "not a key set")
    if data.get("v") != KEY_SET_VERSION:
        raise KeySetRejected("malformed", f"unknown key-set version {data.get('v')!r}")
    serial, active, entries = data.get("serial"), data.get("active"), data.get("keys")
    if not isinstance(serial, int) or isinstance(serial, bool) or serial < 1:
        raise KeySetRejected("malformed", "serial")
    if not isinstance(entries, list) or not 0 < len(entries) <= MAX_KEYS:
        raise KeySetRejected("malformed", "keys")
    keys: dict[str, str] = {}
    for entry in entries:
        key_id = entry.get("key_id") if isinstance(entry, dict) else None
        public = entry.get("public_key") if isinstance(entry, dict) else None
        if not isinstance(key_id, str) or not isinstance(public, str) or not key_id:
            raise KeySetRejected("malformed", "a key entry")
        keys[key_id] = public
    if not isinstance(active, str) or active not in keys:
        raise KeySetRejected("malformed", "the active key is not in the set")
    return KeySet(serial, str(data.get("issued_at", "")), active, keys)


def accept(reply: Any, trusted: dict[str, str], *, pinned_serial: int) -> KeySet:
    """The set a ``/terminal/v1/keys`` reply carries, if a screen may adopt it.

    It must be signed by one of the ``trusted`` (pinned) keys and be newer
    than ``pinned_serial``. Raises KeySetRejected otherwise.
    """
    text = reply.get("key_set") if isinstance(reply, dict) else None
    if not isinstance(text, str):
        raise KeySetRejected("missing", "the server sent no signed key set")
    key_set = parse(text)
    if not _signed_by(text, reply.get("signatures"), trusted):
        raise KeySetRejected("untrusted", "not signed by a key this screen trusts")
    if key_set.serial <= pinned_serial:
        raise KeySetRejected("stale", f"serial {key_set.serial} is not after {pinned_serial}")
    return key_set


def self_signed(reply: Any) -> KeySet:
    """The set of an enrolment reply, checked against its own keys: at
    enrolment the screen has nothing pinned yet (trust on first use of the
    one-time code), but a set must still be internally consistent."""
    text = reply.get("key_set") if isinstance(reply, dict) else None
    if not isinstance(text, str):
        raise KeySetRejected("missing", "the server sent no signed key set")
    key_set = parse(text)
    if not _signed_by(text, reply.get("signatures"), key_set.keys):
        raise KeySetRejected("untrusted", "not signed by its own keys")
    return key_set


def _signed_by(text: str, signatures: Any, trusted: dict[str, str]) -> bool:
    if not isinstance(signatures, list):
        return False
    data = text.encode("utf-8")
    for entry in signatures[: MAX_KEYS * 2]:
        if not isinstance(entry, dict):
            continue
        key_id, signature = entry.get("key_id"), entry.get("signature")
        if not isinstance(key_id, str) or not isinstance(signature, str):
            continue
        if key_id in trusted and signature_valid(data, signature, trusted[key_id]):
            return True
    return False
