"""Monitoring services without a database: rate limit, batcher, uptime, rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lianbo.domain.monitoring.playlog import PlayCheck, PlayRow
from lianbo.protocol.manifest import Entry, Item, Playlist
from lianbo.services.playlog import child_prefix, entries_of, off_schedule, parse_row
from lianbo.services.presence import Beat, HeartbeatBatcher, RateLimiter, uptime_series
from lianbo.services.programme import Programme
from lianbo.services.screenshots import check_upload, media_type_of

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
SHA_A, SHA_B = "a" * 64, "b" * 64


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_rate_limiter_allows_a_burst_then_one_per_interval() -> None:
    limiter = RateLimiter(interval_s=2.0, burst=3)
    assert [limiter.admit("t", at(0)) for _ in range(5)] == [True, True, True, False, False]
    assert not limiter.admit("t", at(1.0))
    assert limiter.admit("t", at(2.5))
    assert limiter.admit("other", at(2.5))  # per terminal
    assert [limiter.admit("t", at(30 + n)) for n in range(0, 60, 30)] == [True, True]


def test_batcher_hands_out_at_most_its_size_and_signals_when_full() -> None:
    batcher = HeartbeatBatcher(max_items=3)
    for n in range(4):
        batcher.add(Beat(f"t{n}", at(n)))
    assert batcher.full.is_set()
    assert [b.terminal_id for b in batcher.take()] == ["t0", "t1", "t2"]
    assert not batcher.full.is_set()
    assert [b.terminal_id for b in batcher.take()] == ["t3"]
    assert batcher.take() == []


def test_uptime_counts_only_known_time_per_bucket() -> None:
    transitions = [
        ("t1", "510107", "outdoor", "online", at(0)),
        ("t1", "510107", "outdoor", "offline", at(1800)),
        ("t1", "510107", "outdoor", "online", at(2700)),
        ("t2", "510104", "home", "online", at(3600)),  # unknown before it was first seen
    ]
    cells = uptime_series(transitions, T0, at(7200), timedelta(hours=1), lambda r, t: t)
    by_key = {(c["key"], c["at"]): c for c in cells}
    first = by_key[("outdoor", T0.isoformat())]
    assert (first["online_s"], first["known_s"], first["uptime"]) == (2700.0, 3600.0, 0.75)
    assert by_key[("outdoor", at(3600).isoformat())]["uptime"] == 1.0
    assert ("home", T0.isoformat()) not in by_key
    assert by_key[("home", at(3600).isoformat())]["known_s"] == 3600.0


def test_child_prefix_steps_one_level_down() -> None:
    assert child_prefix("510107", "") == "51"
    assert child_prefix("510107", "51") == "5101"
    assert child_prefix("510107001", "5101") == "510107"
    assert child_prefix("510107001", "510107") == "510107001"


def programme() -> Programme:
    entry = Entry(at(0), at(600), "s1", "p1", "local", False, at(0), "")
    filler = Entry(at(600), at(1200), None, "p2", "filler", False, at(600), "")
    return Programme(
        "v1",
        at(0),
        at(1200),
        (entry, filler),
        {
            "p1": Playlist(
                (Item("a1", "image", 10_000, "fit"), Item("a2", "video", 5_000, "fit")), 15_000
            ),
            "p2": Playlist((Item("a3", "image", 10_000, "fit"),), 10_000),
        },
        {"a1": frozenset({SHA_A}), "a2": frozenset({SHA_B}), "a3": frozenset({"c" * 64})},
    )


def test_programme_knows_what_should_be_on_screen() -> None:
    plan = programme()
    assert plan.allowed(at(5)) == {SHA_A: {"s1"}, SHA_B: {"s1"}}
    assert plan.allowed(at(700)) == {"c" * 64: {None}}
    shown = plan.showing(at(12))
    assert shown is not None and (shown.asset_id, shown.item_offset_ms) == ("a2", 2000)
    assert plan.showing(at(5000)) is None


def test_a_scheduled_slot_without_its_content_is_off_schedule() -> None:
    plan = programme()
    other = (0, PlayRow("d" * 64, None, at(0), at(300)), PlayCheck.UNAUTHORISED, "")
    missed = off_schedule([other], plan)
    assert [m["schedule_id"] for m in missed] == ["s1"]
    played = (1, PlayRow(SHA_A, "s1", at(100), at(110)), PlayCheck.OK, "")
    assert off_schedule([other, played], plan) == []
    short = (2, PlayRow("d" * 64, None, at(0), at(30)), PlayCheck.OK, "")
    assert off_schedule([short], plan) == []  # under a minute of the slot: no judgement


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("text", "not an object"),
        ({"sha256": "ABC"}, "sha256"),
        ({"sha256": SHA_A, "started_at": "soon", "ended_at": "later"}, "started_at"),
        ({"sha256": SHA_A, "started_at": "2026-11-22T08:00:00", "ended_at": "x"}, "offset"),
        ({"sha256": SHA_A, "schedule_id": 5, "started_at": "x", "ended_at": "x"}, "schedule_id"),
    ],
)
def test_malformed_rows_are_named(raw: object, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_row(raw)


def test_entries_of_refuses_what_is_not_a_batch() -> None:
    from lianbo.domain.errors import InvalidInput, TooLarge

    with pytest.raises(InvalidInput):
        entries_of([])
    with pytest.raises(TooLarge):
        entries_of({"entries": [{}] * 501})
    assert entries_of({"entries": []}) == []


def test_screenshots_are_recognised_by_content() -> None:
    from lianbo.domain.errors import InvalidInput, TooLarge

    assert media_type_of(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert media_type_of(b"\x89PNG\r\n\x1a\nrest") == "image/png"
    with pytest.raises(InvalidInput):
        media_type_of(b"GIF89a")
    with pytest.raises(TooLarge):
        check_upload(b"\xff\xd8\xff" + bytes(8 * 1024 * 1024), T0, "framebuffer", T0)
    with pytest.raises(InvalidInput, match="future"):
        check_upload(b"\xff\xd8\xff", at(3600), "framebuffer", T0)
    with pytest.raises(InvalidInput, match="source"):
        check_upload(b"\xff\xd8\xff", T0, "drone", T0)
