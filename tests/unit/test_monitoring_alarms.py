"""The alarm reducer driven by a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lianbo.domain.monitoring.alarms import (
    AlarmBook,
    AlarmEvent,
    AlarmState,
    AlarmType,
    Observation,
    Severity,
    acknowledge,
    observe,
    resolve,
    severity,
)

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class Clock:
    """A fake clock the test advances."""

    def __init__(self) -> None:
        self.now = T0

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def feed(
    book: AlarmBook, clock: Clock, kind: AlarmType, pattern: str, every_s: float, tier: str = "hall"
) -> tuple[AlarmBook, list[AlarmEvent]]:
    """Observe ``pattern`` ('1' active, '0' clear), one observation every ``every_s``."""
    events: list[AlarmEvent] = []
    for mark in pattern:
        observation = Observation("t1", kind, mark == "1", tier, {"mark": mark})
        book, happened = observe(book, observation, clock.advance(every_s))
        events += happened
    return book, events


def names(events: list[AlarmEvent]) -> list[str]:
    return [event.name for event in events]


def test_severity_depends_on_tier() -> None:
    assert severity(AlarmType.BLACK, "outdoor") is Severity.CRITICAL
    assert severity(AlarmType.BLACK, "home") is Severity.WARNING
    assert severity(AlarmType.CONTENT_MISMATCH, "home") is Severity.CRITICAL
    assert severity(AlarmType.BLACK, "unknown-tier") is Severity.CRITICAL


def test_one_mismatch_is_not_an_alarm_two_in_a_row_are_critical() -> None:
    clock = Clock()
    book, events = feed(AlarmBook(), clock, AlarmType.CONTENT_MISMATCH, "1010", 30, "home")
    assert events == []
    book, events = feed(book, clock, AlarmType.CONTENT_MISMATCH, "11", 30, "home")
    assert names(events) == ["opened"]
    assert events[0].alarm.opened_at == T0 + timedelta(seconds=180)
    assert events[0].alarm.severity is Severity.CRITICAL


def test_black_must_persist_before_opening() -> None:
    clock = Clock()
    book, events = feed(AlarmBook(), clock, AlarmType.BLACK, "11", 2)
    assert events == []  # two observations but only 2 s apart
    book, events = feed(book, clock, AlarmType.BLACK, "111111", 2)
    assert names(events) == ["opened"]
    assert events[0].alarm.opened_at == T0 + timedelta(seconds=12)


def test_duplicates_are_one_alarm_per_terminal_and_type() -> None:
    clock = Clock()
    book, events = feed(AlarmBook(), clock, AlarmType.STORAGE_LOW, "1111", 60)
    assert names(events) == ["opened"]
    assert list(book.alarms) == [("t1", AlarmType.STORAGE_LOW)]


def test_flapping_condition_neither_reopens_nor_resolves() -> None:
    clock = Clock()
    _, events = feed(AlarmBook(), clock, AlarmType.FROZEN, "111111111010101010", 5)
    assert names(events) == ["opened"]


def test_auto_resolves_after_clear_for_long_enough() -> None:
    clock = Clock()
    book, events = feed(AlarmBook(), clock, AlarmType.BLACK, "11111100000000", 5)
    assert names(events) == ["opened", "resolved"]
    assert events[1].alarm.state is AlarmState.RESOLVED
    assert book.alarms == {}


def test_acknowledge_then_auto_resolve() -> None:
    clock = Clock()
    book, _ = feed(AlarmBook(), clock, AlarmType.OFFLINE, "1", 10)
    key = ("t1", AlarmType.OFFLINE)
    book, events = acknowledge(book, key, clock.advance(5))
    assert names(events) == ["acknowledged"]
    assert book.alarms[key].state is AlarmState.ACKNOWLEDGED
    assert acknowledge(book, key, clock.now)[1] == []  # already acknowledged
    book, events = feed(book, clock, AlarmType.OFFLINE, "0000000", 10)
    assert names(events) == ["resolved"]
    assert events[0].alarm.acknowledged_at is not None


def test_manual_resolve_reopens_if_the_condition_persists() -> None:
    clock = Clock()
    key = ("t1", AlarmType.STORAGE_LOW)
    book, _ = feed(AlarmBook(), clock, AlarmType.STORAGE_LOW, "1", 10)
    book, events = resolve(book, key, clock.advance(1))
    assert names(events) == ["resolved"]
    assert resolve(book, key, clock.now)[1] == []
    book, events = feed(book, clock, AlarmType.STORAGE_LOW, "1", 10)
    assert names(events) == ["opened"]


def test_terminals_are_independent() -> None:
    clock = Clock()
    book, _ = feed(AlarmBook(), clock, AlarmType.OFFLINE, "1", 10)
    book, events = observe(book, Observation("t2", AlarmType.OFFLINE, False), clock.advance(100))
    assert events == []
    assert ("t1", AlarmType.OFFLINE) in book.alarms
