"""Proof-of-play rows checked against the manifest and the approved set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lianbo.domain.monitoring.playlog import PlayCheck, PlayResult, PlayRow, check_play

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
GOOD, DRAFT, ROGUE = "a" * 64, "b" * 64, "c" * 64


def allowed(moment: datetime) -> dict[str, set[str | None]]:
    """The manifest allows GOOD by schedule s1 from an hour ago to an hour ahead."""
    return {GOOD: {"s1"}} if abs(moment - NOW) <= timedelta(hours=1) else {}


def row(
    sha: str = GOOD, schedule: str | None = "s1", ago_s: float = 60, length_s: float = 10
) -> PlayRow:
    start = NOW - timedelta(seconds=ago_s)
    return PlayRow(sha, schedule, start, start + timedelta(seconds=length_s))


def check(entry: PlayRow) -> PlayResult:
    return check_play(entry, allowed, {GOOD}, {GOOD, DRAFT}, NOW)


def test_allowed_approved_play_is_ok() -> None:
    assert check(row()).check is PlayCheck.OK
    assert check(row(schedule=None)).check is PlayCheck.OK


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        (row(sha=ROGUE), "unknown sha256"),
        (row(sha=DRAFT), "asset not approved"),
        (row(ago_s=3 * 3600), "asset not in the manifest at that time"),
        (row(schedule="s2"), "schedule did not allow the asset then"),
    ],
)
def test_unauthorised_content(entry: PlayRow, reason: str) -> None:
    result = check(entry)
    assert result.check is PlayCheck.UNAUTHORISED
    assert result.reason == reason


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        (row(ago_s=-600), "in the future"),
        (row(ago_s=8 * 86400), "older than 7 days"),
        (row(length_s=-5), "ends before it starts"),
        (row(ago_s=90_000, length_s=89_000), "plays longer than 24 h"),
    ],
)
def test_impossible_times_are_rejected(entry: PlayRow, reason: str) -> None:
    result = check(entry)
    assert result.check is PlayCheck.REJECTED
    assert result.reason == reason


def test_small_clock_lead_is_tolerated() -> None:
    assert check(row(ago_s=-30, length_s=10)).check is PlayCheck.OK
