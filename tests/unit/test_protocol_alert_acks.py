"""The ``alert-ack`` message both ways (protocol/alerts.py, messages.py):
what a screen sends, what the server answers, and what is refused."""

from __future__ import annotations

import json

import pytest

from lianbo.protocol.alerts import (
    ACK_MESSAGE_MAX_BYTES,
    AckAnswer,
    ChannelAck,
    ack_answer,
    channel_ack,
)
from lianbo.protocol.messages import (
    SERVER_TYPES,
    TERMINAL_TYPES,
    MalformedMessage,
    Message,
    decode,
)


def up(**body: object) -> str:
    return json.dumps({"type": "alert-ack", **body})


def test_a_screens_ack_goes_up_and_reads_back() -> None:
    sent = Message("alert-ack", ChannelAck("r1", "a1", "displayed", "").body()).encode()
    message = decode(sent, allowed=TERMINAL_TYPES)
    assert message.type == "alert-ack"
    assert channel_ack(message.body) == ChannelAck("r1", "a1", "displayed", None)
    with_reason = ChannelAck("r2", "a1", "failed", "bad signature")
    assert channel_ack(with_reason.body()) == with_reason


@pytest.mark.parametrize(
    "raw",
    [
        up(alert_id="a1", state="displayed"),  # no ref
        up(ref="r1", state="displayed"),  # no alert id
        up(ref="", alert_id="a1", state="displayed"),
        up(ref="r" * 65, alert_id="a1", state="displayed"),
        up(ref=7, alert_id="a1", state="displayed"),
        up(ref="r1", alert_id="a" * 129, state="displayed"),
        up(ref="r1", alert_id="a1", state="displayed", pad="x" * ACK_MESSAGE_MAX_BYTES),
    ],
)
def test_a_malformed_or_oversized_ack_is_refused(raw: str) -> None:
    with pytest.raises(MalformedMessage):
        decode(raw, allowed=TERMINAL_TYPES)


@pytest.mark.parametrize(
    "body",
    [
        {"ref": "r1", "alert_id": "a1"},  # no state
        {"ref": "r1", "alert_id": "a1", "state": 3},
        {"ref": "r1", "alert_id": "a1", "state": "x" * 33},
        {"ref": "r1", "alert_id": "a1", "state": "failed", "reason": 5},
        {"ref": "r1", "alert_id": "a1", "state": "failed", "reason": "x" * 2001},
    ],
)
def test_a_state_or_reason_of_the_wrong_shape_is_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        channel_ack(body)


def test_the_answer_says_where_the_alert_is_now() -> None:
    stored = AckAnswer("r1", "a1", "displayed", changed=True)
    raw = Message("alert-ack", stored.body()).encode()
    message = decode(raw, allowed=SERVER_TYPES)
    assert ack_answer(message.body) == stored
    assert stored.final


def test_a_refusal_with_retry_after_is_not_final_and_one_without_is() -> None:
    later = AckAnswer("r1", "a1", refused="unavailable", message="stopping", retry_after=1.0)
    never = AckAnswer("r2", "a1", refused="not_found", message="not yours")
    assert ack_answer(later.body()) == later and not later.final
    assert ack_answer(never.body()) == never and never.final


def test_an_unreadable_answer_is_none() -> None:
    assert ack_answer({"ref": "r1"}) is None
    assert ack_answer({"ref": "r1", "alert_id": "a1"}) is None  # neither state nor refusal
    assert ack_answer({"ref": "r1", "alert_id": "a1", "refused": "x", "retry_after": True}) == (
        AckAnswer("r1", "a1", refused="x")
    )
