"""Signed key sets (lianbo.protocol.keyset): the wire snapshot and the adoption rule."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lianbo.protocol import keyset
from lianbo.protocol.keyset import KeySet, KeySetRejected


class Key:
    """A key from a fixed seed: Ed25519 signatures are deterministic, so the
    whole wire form is a stable snapshot."""

    def __init__(self, seed: int) -> None:
        self.private = Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
        raw = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id = hashlib.sha256(raw).hexdigest()[:16]
        self.public = base64.b64encode(raw).decode()

    def sign(self, text: str) -> str:
        return self.sign_bytes(text.encode())

    def sign_bytes(self, data: bytes) -> str:
        return base64.b64encode(self.private.sign(data)).decode()


OLD, NEW, STRANGER = Key(1), Key(2), Key(3)


def signed(serial: int, keys: list[Key], signers: list[Key], active: Key) -> dict[str, Any]:
    """A ``/terminal/v1/keys`` reply as the server builds it."""
    public = {k.key_id: k.public for k in keys}
    text = KeySet(serial, "2026-12-07T06:00:00+00:00", active.key_id, public).text()
    return keyset.wire(text, {k.key_id: k.sign(text) for k in signers}, public)


SNAPSHOT = {
    "keys": [
        {"key_id": OLD.key_id, "public_key": "iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w="},
        {"key_id": NEW.key_id, "public_key": "gTl3Dqh9F19Wo1Rmw0x+zMuNipG07jeiXfYPW4/Js5Q="},
    ],
    "key_set": (
        '{"active":"6a3803d5f059902a","issued_at":"2026-12-07T06:00:00+00:00","keys":['
        '{"key_id":"34750f98bd59fcfc","public_key":"iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w="},'
        '{"key_id":"6a3803d5f059902a","public_key":"gTl3Dqh9F19Wo1Rmw0x+zMuNipG07jeiXfYPW4/Js5Q="}],'
        '"kind":"key-set","serial":2,"v":1}'
    ),
    "signatures": [
        {
            "key_id": "34750f98bd59fcfc",
            "signature": "MYHIfWYIiKBUiO47HgM0RuiReEevD+rwBWoXD1VqjmU/"
            "e9Vz0jkY3Klx5U1yAWrtpbZrA2uJHQck23Y1QBwcCw==",
        },
        {
            "key_id": "6a3803d5f059902a",
            "signature": "1gVhEIF3Vy0B0JpD+RitfCK5IJCRtEmIXNX5B42ScF8wdfCJ"
            "PZN4Sr1r6sSxNh1DlqTLdrqIMmvgP6eqHlOeBw==",
        },
    ],
}


def test_the_wire_form_is_stable() -> None:
    # A change here breaks every screen in the field: bump KEY_SET_VERSION instead.
    assert signed(2, [OLD, NEW], [OLD, NEW], NEW) == SNAPSHOT


def test_a_set_signed_by_a_pinned_key_is_adopted() -> None:
    learnt = keyset.accept(signed(2, [OLD, NEW], [OLD, NEW], NEW), OLD_PIN, pinned_serial=1)
    assert learnt.serial == 2 and learnt.active == NEW.key_id
    assert learnt.keys == {OLD.key_id: OLD.public, NEW.key_id: NEW.public}


OLD_PIN = {OLD.key_id: OLD.public}


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        pytest.param({"keys": []}, "missing", id="an-old-server-sends-no-set"),
        pytest.param(signed(2, [STRANGER], [STRANGER], STRANGER), "untrusted", id="foreign-key"),
        pytest.param(signed(2, [OLD, STRANGER], [STRANGER], STRANGER), "untrusted", id="claims"),
        pytest.param(signed(1, [OLD, NEW], [OLD], NEW), "stale", id="replayed-serial"),
        pytest.param({**signed(2, [OLD], [OLD], OLD), "signatures": "x"}, "untrusted", id="junk"),
        pytest.param({"key_set": "{", "signatures": []}, "malformed", id="not-json"),
    ],
)
def test_a_set_not_signed_by_a_pinned_key_or_not_newer_is_refused(
    reply: dict[str, Any], reason: str
) -> None:
    with pytest.raises(KeySetRejected) as refused:
        keyset.accept(reply, OLD_PIN, pinned_serial=1)
    assert refused.value.reason == reason


def test_a_signature_over_other_bytes_does_not_count() -> None:
    reply = signed(2, [OLD, NEW], [OLD], NEW)
    reply["key_set"] = reply["key_set"].replace('"serial":2', '"serial":9')
    with pytest.raises(KeySetRejected) as refused:
        keyset.accept(reply, OLD_PIN, pinned_serial=1)
    assert refused.value.reason == "untrusted"


def test_an_enrolment_set_must_be_signed_by_its_own_keys() -> None:
    assert keyset.self_signed(signed(1, [OLD], [OLD], OLD)).keys == OLD_PIN
    with pytest.raises(KeySetRejected):
        keyset.self_signed(signed(1, [OLD], [STRANGER], OLD))
