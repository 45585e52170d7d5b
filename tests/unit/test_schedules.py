from datetime import UTC, datetime, time, timedelta

import pytest

from lianbo.domain.errors import InvalidInput
from lianbo.domain.schedules import (
    DailyWindow,
    PriorityClass,
    Schedule,
    Targets,
    check_rrule,
    occurrences,
    parse_window,
    zone,
)

SH = zone("Asia/Shanghai")


def schedule(**extra: object) -> Schedule:
    base = dict(
        id="s",
        name="n",
        playlist_id="p",
        targets=Targets(("51",)),
        starts_at=datetime(2026, 11, 23, 0, 0, tzinfo=SH),
        ends_at=datetime(2026, 11, 30, 0, 0, tzinfo=SH),
        priority=PriorityClass.LOCAL,
    )
    return Schedule(**(base | extra))  # type: ignore[arg-type]


def test_no_rule_is_one_continuous_occurrence_clipped_to_the_horizon() -> None:
    s = schedule()
    lo = datetime(2026, 11, 22, tzinfo=UTC)
    found = occurrences(s, lo, lo + timedelta(days=2))
    assert found == [(s.starts_at, lo + timedelta(days=2))]


def test_daily_window_in_local_time_across_midnight() -> None:
    s = schedule(daily_window=DailyWindow(time(22, 0), time(2, 0)))
    found = occurrences(s, s.starts_at, s.starts_at + timedelta(days=2))
    assert found[0] == (s.starts_at, datetime(2026, 11, 23, 2, 0, tzinfo=SH))
    assert found[1] == (
        datetime(2026, 11, 23, 22, 0, tzinfo=SH),
        datetime(2026, 11, 24, 2, 0, tzinfo=SH),
    )
    assert found[1][0].astimezone(UTC).hour == 14


def test_rrule_picks_days_and_window_picks_hours() -> None:
    s = schedule(rrule="FREQ=WEEKLY;BYDAY=MO,WE", daily_window=parse_window("08:00", "09:30"))
    found = occurrences(s, s.starts_at, s.ends_at)
    assert [a.astimezone(SH).strftime("%a %H:%M") for a, _ in found] == ["Mon 08:00", "Wed 08:00"]
    assert all(b - a == timedelta(minutes=90) for a, b in found)


@pytest.mark.parametrize("rule", ["FREQ=SOMETIMES", "BYDAY=XX", ""])
def test_bad_rrules_name_the_field(rule: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_rrule(rule, datetime(2026, 11, 23, tzinfo=UTC), "Asia/Shanghai")
    assert caught.value.field == "rrule"


def test_bad_zone_and_window() -> None:
    with pytest.raises(InvalidInput) as caught:
        zone("Mars/Olympus")
    assert caught.value.field == "timezone"
    with pytest.raises(InvalidInput):
        parse_window("8am", "09:00")
