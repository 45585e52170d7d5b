"""A play-log batch judged in one pass: same verdicts as row by row, rollups, manifest lookups."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from lianbo.domain.monitoring.playlog import (
    PlayCheck,
    PlayRow,
    check_batch,
    check_play,
    hour_of,
    parse_row,
    roll_up,
)
from lianbo.protocol.manifest import Entry, Item, Playlist
from lianbo.services.playlog import allowed_by
from lianbo.services.programme import Programme

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
GOOD, OTHER, DRAFT, ROGUE = "a" * 64, "b" * 64, "d" * 64, "e" * 64
CHINA = timezone(timedelta(hours=8))


def allowed(moment: datetime) -> dict[str, set[str | None]]:
    """GOOD by schedule s1 in the last hour; OTHER as filler before that."""
    if NOW - timedelta(hours=1) <= moment < NOW + timedelta(hours=1):
        return {GOOD: {"s1"}}
    return {OTHER: {None}}


def entry(sha: Any = GOOD, ago_s: float = 60, length_s: float = 10, **extra: Any) -> Any:
    start = NOW - timedelta(seconds=ago_s)
    return {
        "sha256": sha,
        "schedule_id": "s1",
        "started_at": start.astimezone(CHINA).isoformat(),
        "ended_at": (start + timedelta(seconds=length_s)).isoformat(),
        **extra,
    }


MIXED: list[Any] = [
    entry(),
    entry(schedule_id=None),
    entry(OTHER, ago_s=2 * 3600, schedule_id=None),  # filler then: ok
    entry(OTHER),  # not in the manifest then
    entry(schedule_id="s2"),  # schedule did not allow it
    entry(DRAFT),
    entry(ROGUE),
    entry(ago_s=-600),  # future
    entry(ago_s=8 * 86400),  # too old
    entry(length_s=-5),  # backwards
    entry(ago_s=90_000, length_s=89_000),  # longer than a day
    "not an object",
    entry("ABC"),
    entry(schedule_id=7),
    entry(started_at="2026-11-22T08:00:00"),  # no offset
    entry(ended_at="later"),
    entry(ago_s=-100),  # within the clock slack
]


def one_by_one(raw: list[Any]) -> tuple[list[Any], list[dict[str, Any]]]:
    """What parse_row + check_play say, row by row (the reference)."""
    kept, rejected = [], []
    for index, item in enumerate(raw):
        try:
            row = parse_row(item)
        except ValueError as error:
            rejected.append({"index": index, "reason": f"malformed: {error}"})
            continue
        result = check_play(row, allowed, {GOOD, OTHER}, {GOOD, OTHER, DRAFT}, NOW)
        if result.check is PlayCheck.REJECTED:
            rejected.append({"index": index, "reason": result.reason})
        else:
            kept.append((index, row, result.check, result.reason))
    return kept, rejected


def test_a_batch_gets_the_verdicts_of_its_rows_one_by_one() -> None:
    rng = random.Random(5)
    batch = [rng.choice(MIXED) for _ in range(500)]
    assert check_batch(batch, allowed, {GOOD, OTHER}, {GOOD, OTHER, DRAFT}, NOW) == one_by_one(
        batch
    )


def test_each_kind_of_row_is_named_with_its_reason() -> None:
    kept, rejected = check_batch(MIXED, allowed, {GOOD, OTHER}, {GOOD, OTHER, DRAFT}, NOW)
    assert [(i, c.value, r) for i, _, c, r in kept] == [
        (0, "ok", ""),
        (1, "ok", ""),
        (2, "ok", ""),
        (3, "unauthorised", "asset not in the manifest at that time"),
        (4, "unauthorised", "schedule did not allow the asset then"),
        (5, "unauthorised", "asset not approved"),
        (6, "unauthorised", "unknown sha256"),
        (16, "ok", ""),
    ]
    reasons = {r["index"]: r["reason"] for r in rejected}
    assert [reasons[i] for i in range(7, 11)] == [
        "in the future",
        "older than 7 days",
        "ends before it starts",
        "plays longer than 24 h",
    ]
    assert reasons[11] == "malformed: not an object"
    assert "sha256" in reasons[12] and "schedule_id" in reasons[13]
    assert "started_at" in reasons[14] and "ended_at" in reasons[15]


def test_a_sha256_with_a_trailing_newline_is_malformed() -> None:
    with pytest.raises(ValueError, match="sha256"):
        parse_row(entry(GOOD + "\n"))


def play(sha: str, start: datetime, seconds: float) -> PlayRow:
    return PlayRow(sha, None, start, start + timedelta(seconds=seconds))


def test_rollups_sum_plays_and_seconds_per_utc_hour_and_asset() -> None:
    rows = [
        play(GOOD, NOW - timedelta(minutes=30), 10),
        play(GOOD, (NOW - timedelta(minutes=5)).astimezone(CHINA), 20),  # same UTC hour
        play(GOOD, NOW + timedelta(minutes=1), 5),  # next hour
        play(OTHER, NOW - timedelta(minutes=59, seconds=59), 1.5),
        play(ROGUE, NOW - timedelta(minutes=10), 3),  # unknown: counted under its sha256
        play(GOOD, NOW - timedelta(minutes=20), 7),  # out of time order
    ]
    totals = roll_up(rows, {GOOD: "asset-good", OTHER: "asset-other"})
    earlier = NOW - timedelta(hours=1)
    assert totals == {
        (earlier, "asset-good"): (3, 37.0),
        (NOW, "asset-good"): (1, 5.0),
        (earlier, "asset-other"): (1, 1.5),
        (earlier, ROGUE): (1, 3.0),
    }
    assert all(hour.utcoffset() == timedelta(0) for hour, _ in totals)


def test_the_hour_of_a_moment_is_its_utc_hour() -> None:
    moment = datetime(2026, 11, 22, 20, 45, 12, 5, tzinfo=CHINA)
    assert hour_of(moment) == datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    india = datetime(2026, 11, 22, 18, 10, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert hour_of(india) == datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def programme(timeline: tuple[Entry, ...]) -> Programme:
    playlists = {
        "p1": Playlist((Item("a1", "image", 10_000, "fit"),), 10_000),
        "p2": Playlist((Item("a2", "image", 10_000, "fit"),), 10_000),
    }
    files = {"a1": frozenset({GOOD}), "a2": frozenset({OTHER})}
    return Programme("v1", at(0), at(600), timeline, playlists, files)


def slot(start: float, end: float, schedule: str | None, playlist: str) -> Entry:
    return Entry(at(start), at(end), schedule, playlist, "local", False, at(start), "")


@pytest.mark.parametrize(
    "timeline",
    [
        (slot(0, 60, "s1", "p1"), slot(60, 60, None, "p2"), slot(60, 120, None, "p2")),
        (slot(0, 60, "s1", "p1"), slot(90, 150, "s2", "p2"), slot(200, 600, "s1", "p1")),
        (slot(0, 120, "s1", "p1"), slot(60, 180, "s2", "p2")),  # overlapping: scanned
        (slot(60, 120, "s2", "p2"), slot(0, 60, "s1", "p1")),  # out of order: scanned
        (),
    ],
    ids=["back-to-back", "gaps", "overlapping", "unordered", "empty"],
)
def test_manifest_lookups_answer_as_the_programme_does(timeline: tuple[Entry, ...]) -> None:
    plan = programme(timeline)
    lookup = allowed_by(plan)
    moments = [at(m / 4) for m in range(-8, 2500)] + [at(60) - timedelta(microseconds=1)]
    for moment in moments + moments[::-1]:  # in and out of time order
        assert lookup(moment) == plan.allowed(moment), moment


def test_without_a_programme_nothing_is_allowed() -> None:
    assert allowed_by(None)(NOW) == {}


def test_plays_before_the_manifest_began_are_judged_by_what_it_schedules() -> None:
    # The manifest starts at the top of the hour; a batch sent just after the
    # hour turned reports plays of the hour before.
    plan = programme((slot(0, 60, "s1", "p1"),))
    lookup = allowed_by(plan)
    before = at(-0.5)
    assert lookup(before) == plan.allowed(before) == {GOOD: {"s1"}}
    assert OTHER not in lookup(before)  # not scheduled anywhere in it: still unauthorised
