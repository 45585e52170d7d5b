"""The domain events' JSON codec and envelopes (pure)."""

from __future__ import annotations

from dataclasses import fields

import pytest

from lianbo.domain.events import (
    EVENTS,
    AlertIssued,
    Event,
    ManifestsChanged,
    TerminalRetired,
    UnknownEvent,
    decode,
    encode,
    envelopes,
    unwrap,
    wrap,
)


def test_every_event_survives_the_codec() -> None:
    for cls in EVENTS.values():
        names = [f.name for f in fields(cls)]
        if cls is ManifestsChanged:
            event: Event = ManifestsChanged({"a": "v1"})
        else:
            event = cls(**{name: f"{name}-1" for name in names})
        assert decode(encode(event)) == event


def test_an_envelope_names_its_origin() -> None:
    assert unwrap(wrap("p1", AlertIssued("a1"))) == ("p1", AlertIssued("a1"))


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"type": "Nope", "alert_id": "a"}',
        '{"type": "AlertIssued"}',
        '{"type": "AlertIssued", "alert_id": "a", "more": 1}',
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(UnknownEvent):
        decode(text)


def test_an_envelope_without_origin_is_refused() -> None:
    with pytest.raises(UnknownEvent):
        unwrap('{"event": {"type": "AlertIssued", "alert_id": "a"}}')


def test_a_large_manifest_change_is_split_into_whole_parts() -> None:
    versions = {f"audience-{n:05d}-{'k' * 40}": f"v{n:040d}" for n in range(1000)}
    parts = envelopes("p1", ManifestsChanged(versions), limit=7900)
    assert len(parts) > 1
    assert all(len(p.encode()) <= 7900 for p in parts)
    joined: dict[str, str] = {}
    for part in parts:
        origin, event = unwrap(part)
        assert origin == "p1" and isinstance(event, ManifestsChanged)
        joined.update(event.versions)
    assert joined == versions


def test_a_small_event_is_one_envelope() -> None:
    assert envelopes("p1", TerminalRetired("t1")) == [wrap("p1", TerminalRetired("t1"))]
