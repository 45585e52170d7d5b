"""Verdicts become observations that raise and clear screen alarms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lianbo.domain.monitoring.alarms import AlarmBook, AlarmType, Severity, observe
from lianbo.domain.monitoring.screens import observations
from lianbo.domain.monitoring.verification import Verdict, Verification

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def active(result: Verification) -> set[AlarmType]:
    return {o.kind for o in observations(result, "t1", "outdoor") if o.active}


def kinds(result: Verification) -> set[AlarmType]:
    return {o.kind for o in observations(result, "t1", "outdoor")}


def test_match_clears_every_screen_condition() -> None:
    result = Verification(Verdict.MATCH, 3, 1.0)
    assert active(result) == set()
    assert kinds(result) == {AlarmType.BLACK, AlarmType.FROZEN, AlarmType.CONTENT_MISMATCH}


def test_each_alarming_verdict_raises_its_condition() -> None:
    assert active(Verification(Verdict.BLACK)) == {AlarmType.BLACK}
    assert active(Verification(Verdict.FROZEN, 30, 2.0)) == {AlarmType.FROZEN}
    assert active(Verification(Verdict.MISMATCH, 30, 2.0)) == {AlarmType.CONTENT_MISMATCH}


def test_expected_black_raises_nothing() -> None:
    assert active(Verification(Verdict.BLACK, expected=True)) == set()


def test_unknown_says_nothing_about_mismatch() -> None:
    assert AlarmType.CONTENT_MISMATCH not in kinds(Verification(Verdict.UNKNOWN, 16, 0.0))


def test_two_mismatching_screenshots_open_a_critical_alarm() -> None:
    book, opened = AlarmBook(), []
    for step in range(2):
        for observation in observations(Verification(Verdict.MISMATCH, 31, 0.0), "t1", "home"):
            book, events = observe(book, observation, T0 + timedelta(seconds=30 * step))
            opened += [e.alarm for e in events if e.name == "opened"]
    assert [(a.kind, a.severity) for a in opened] == [
        (AlarmType.CONTENT_MISMATCH, Severity.CRITICAL)
    ]
    assert opened[0].evidence["distance"] == 31
