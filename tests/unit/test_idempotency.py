"""The pure part of idempotency keys (``domain/idempotency.py``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lianbo.domain.errors import InvalidInput
from lianbo.domain.idempotency import (
    Claim,
    KeptKey,
    KeyReused,
    Outcome,
    fingerprint,
    parse_key,
    replay,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("abc", "abc"),
        (" 8e03978e-40d5-43e8-bc93-6894a57f9324 ", "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ('"quoted"', "quoted"),
        ("x" * 255, "x" * 255),
        ("!~", "!~"),
    ],
)
def test_a_key_is_one_to_255_visible_ascii_characters(raw: str, key: str) -> None:
    assert parse_key(raw) == key


@pytest.mark.parametrize("raw", ["", "  ", '""', "x" * 256, "a b", "tab\there", "密钥", "\x7f"])
def test_anything_else_is_invalid_naming_the_header(raw: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_key(raw)
    assert refused.value.field == "Idempotency-Key"
    assert type(refused.value) is InvalidInput  # 400, not 422


def test_the_fingerprint_covers_the_act_and_the_body() -> None:
    assert fingerprint("alert.issue", b"{}") == fingerprint("alert.issue", b"{}")
    assert fingerprint("alert.issue", b"{}") != fingerprint("alert.issue", b"{ }")
    assert fingerprint("alert.issue", b"{}") != fingerprint("alert.cancel", b"{}")


def _kept(claim: Claim, expires: datetime) -> KeptKey:
    return KeptKey(claim, Outcome(201, "a1"), NOW - timedelta(hours=1), expires)


CLAIM = Claim("u1", "k", "alert.issue", fingerprint("alert.issue", b"{}"))


def test_no_key_kept_means_the_act_runs() -> None:
    assert replay(None, CLAIM, NOW) is None


def test_the_same_request_gets_the_kept_outcome() -> None:
    assert replay(_kept(CLAIM, NOW + timedelta(hours=1)), CLAIM, NOW) == Outcome(201, "a1")


def test_an_expired_key_no_longer_binds() -> None:
    other = Claim("u1", "k", "alert.issue", fingerprint("alert.issue", b"[]"))
    assert replay(_kept(CLAIM, NOW), other, NOW) is None


@pytest.mark.parametrize(
    "other",
    [
        Claim("u1", "k", "alert.issue", fingerprint("alert.issue", b"[]")),
        Claim("u1", "k", "alert.cancel", fingerprint("alert.issue", b"{}")),
    ],
)
def test_the_key_with_another_request_is_refused(other: Claim) -> None:
    with pytest.raises(KeyReused) as refused:
        replay(_kept(CLAIM, NOW + timedelta(hours=1)), other, NOW)
    assert refused.value.field == "Idempotency-Key"
