"""Peer JSON with bounded nesting: too deep is a ValueError, never a RecursionError."""

from __future__ import annotations

import json

import pytest

from lianbo.adapters.fleet.inbox import Inbox
from lianbo.domain.errors import InvalidInput
from lianbo.protocol import json_input
from lianbo.protocol.messages import TERMINAL_TYPES, MalformedMessage, decode
from lianbo.web.pages.alert_area import read_area
from tests.support.clock import FakeClock

ABYSS = "[" * 100_000  # deeper than Python's recursion limit, unterminated
PIT = "[" * 5_000  # as deep, yet small enough for any size limit


@pytest.mark.parametrize(
    "raw", [ABYSS, ABYSS.encode(), "[" * 40 + "]" * 40, '{"a":' * 40 + "1" + "}" * 40]
)
def test_deep_nesting_is_a_value_error(raw: str | bytes) -> None:
    with pytest.raises(json_input.TooDeep):
        json_input.loads(raw)


def test_ordinary_documents_parse_as_json_does() -> None:
    document = {"area": {"polygons": [[[30.6, 104.0], [30.7, 104.1]]]}, "text": "[[[[" * 20}
    raw = json.dumps(document)
    assert json_input.loads(raw) == document
    assert json_input.loads(raw.encode()) == document
    assert json_input.depth(document) == 5


def test_a_deep_message_from_a_screen_is_malformed() -> None:
    with pytest.raises(MalformedMessage):
        decode('{"type":"status","x":' + PIT, allowed=TERMINAL_TYPES)


def test_a_deep_message_is_dropped_and_the_sender_heard_again() -> None:
    box = Inbox(FakeClock())
    assert box.receive("t1", '{"type":"status","x":' + PIT) is None
    assert box.receive("t1", '{"type":"time","t0":1}') is not None


def test_a_deep_polygon_field_in_the_alert_form_names_the_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        read_area({"polygons": ABYSS}, [])
    assert refused.value.field == "polygons"
