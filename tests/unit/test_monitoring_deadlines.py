"""The sweeper's schedule: earliest hold-off deadline, wake-ups, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lianbo.domain.monitoring.deadlines import MARGIN, OfflineDeadlines
from lianbo.services.presence import STAMP_S, Beat, stamps

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
HOLD_OFF = timedelta(seconds=60)
CAP = timedelta(seconds=1)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_nothing_known_means_no_deadline_and_the_capped_wake_up() -> None:
    deadlines = OfflineDeadlines(HOLD_OFF)
    assert deadlines.next_deadline() is None
    assert deadlines.wake_at(at(5), CAP) == at(6)


def test_the_earliest_last_seen_plus_hold_off_is_the_deadline() -> None:
    deadlines = OfflineDeadlines(HOLD_OFF)
    deadlines.seen("b", at(12))
    deadlines.seen("a", at(3))
    deadlines.seen("c", at(40))
    assert deadlines.next_deadline() == at(63)
    assert len(deadlines) == 3


def test_a_later_heartbeat_moves_the_deadline_and_an_earlier_one_does_not() -> None:
    deadlines = OfflineDeadlines(HOLD_OFF)
    deadlines.seen("a", at(0))
    deadlines.seen("b", at(10))
    deadlines.seen("a", at(30))  # "a" beat again: "b" is now the first to run out
    assert deadlines.next_deadline() == at(70)
    deadlines.seen("b", at(5))  # out of order (a late batch): never moves back
    assert deadlines.last_seen("b") == at(10)
    assert deadlines.next_deadline() == at(70)


def test_the_sweeper_wakes_just_after_the_deadline_never_before() -> None:
    deadlines = OfflineDeadlines(HOLD_OFF)
    deadlines.seen("a", at(0))
    # Far from the deadline: the cap (new arrivals, other processes).
    assert deadlines.wake_at(at(10), CAP) == at(11)
    # Within a second of it: exactly the deadline plus the margin.
    assert deadlines.wake_at(at(59.6), CAP) == at(60) + MARGIN
    # Overdue and not yet swept: now.
    assert deadlines.wake_at(at(61), CAP) == at(61)


def test_expire_forgets_what_ran_out_and_keeps_a_screen_that_beat_since() -> None:
    deadlines = OfflineDeadlines(HOLD_OFF)
    deadlines.seen("a", at(0))
    deadlines.seen("b", at(1))
    deadlines.seen("c", at(2))
    deadlines.seen("b", at(50))  # "b" beat again before the sweep
    assert deadlines.expire(at(60)) == []  # exactly the hold-off: not yet offline
    assert sorted(deadlines.expire(at(62.5))) == ["a", "c"]
    assert deadlines.last_seen("a") is None and deadlines.last_seen("b") == at(50)
    assert deadlines.next_deadline() == at(110)
    assert deadlines.expire(at(62.5)) == []  # once


def test_a_screen_back_after_expiry_gets_a_new_deadline() -> None:
    deadlines = OfflineDeadlines(HOLD_OFF)
    deadlines.seen("a", at(0))
    assert deadlines.expire(at(61)) == ["a"]
    assert deadlines.next_deadline() is None
    deadlines.seen("a", at(90))
    assert deadlines.next_deadline() == at(150)


def test_batched_heartbeats_are_stamped_at_most_a_step_late_and_never_early() -> None:
    beats = [
        Beat("a", at(0.01)),
        Beat("b", at(0.05)),
        Beat("a", at(0.02)),  # a's latest counts
        Beat("c", at(0.33)),
        Beat("d", at(0.34)),
    ]
    stamped = stamps(beats)
    assert set(stamped) == {"a", "b", "c", "d"}
    latest = {"a": at(0.02), "b": at(0.05), "c": at(0.33), "d": at(0.34)}
    for terminal_id, stamp in stamped.items():
        assert latest[terminal_id] <= stamp < latest[terminal_id] + timedelta(seconds=STAMP_S)
    assert len(set(stamped.values())) == 2  # two steps: two UPDATE statements
    assert stamps([]) == {}
