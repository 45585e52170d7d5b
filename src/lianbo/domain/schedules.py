"""Schedules: what to play, for whom, when, at which priority.

Time rules, stated once:
- ``starts_at``/``ends_at`` bound everything (half-open, UTC instants).
- ``daily_window`` (local ``HH:MM``–``HH:MM``; an end before the start runs
  past midnight) limits each day to those hours; absent, the whole day.
- ``rrule`` (RFC 5545 ``RRULE`` body, e.g. ``FREQ=WEEKLY;BYDAY=MO,FR``)
  picks the local *days* the window applies to, counted from the local date
  of ``starts_at``; absent with a window, every day.
- Neither: one continuous occurrence from start to end.

RRULE parsing uses python-dateutil, the one non-stdlib import in the domain:
a pure library, and RFC 5545 is no place for hand-written parsing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr

from lianbo.domain.errors import Unprocessable
from lianbo.domain.terminals import Tier

DEFAULT_TIMEZONE = "Asia/Shanghai"
MAX_OCCURRENCE_DAYS = 400  # expansion guard: a horizon never needs more


class PriorityClass(StrEnum):
    """Highest first. ``emergency`` is reserved for alerts."""

    EMERGENCY = "emergency"
    PUBLIC = "public"
    SIMULCAST = "simulcast"
    LOCAL = "local"
    FILLER = "filler"


RANK: dict[PriorityClass, int] = {
    PriorityClass.EMERGENCY: 5,
    PriorityClass.PUBLIC: 4,
    PriorityClass.SIMULCAST: 3,
    PriorityClass.LOCAL: 2,
    PriorityClass.FILLER: 1,
}
SCHEDULABLE = (
    PriorityClass.PUBLIC,
    PriorityClass.SIMULCAST,
    PriorityClass.LOCAL,
    PriorityClass.FILLER,
)


class ScheduleState(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Targets:
    """Who a schedule is for. A terminal matches when it lies in any listed
    region subtree and, for each other list given, has one of its values."""

    regions: tuple[str, ...]
    tiers: tuple[Tier, ...] = ()
    groups: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DailyWindow:
    start: time
    end: time

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True, slots=True)
class Schedule:
    id: str
    name: str
    playlist_id: str
    targets: Targets
    starts_at: datetime
    ends_at: datetime
    priority: PriorityClass
    timezone: str = DEFAULT_TIMEZONE
    rrule: str | None = None
    daily_window: DailyWindow | None = None
    sync: bool = False
    state: ScheduleState = ScheduleState.DRAFT
    published_at: datetime | None = None
    region: str = ""  # the jurisdiction that owns it
    owner: str = ""
    created_at: datetime | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def state_at(self, now: datetime) -> ScheduleState:
        """Published schedules whose end has passed read as ended."""
        if self.state is ScheduleState.PUBLISHED and self.ends_at <= now:
            return ScheduleState.ENDED
        return self.state

    @property
    def anchor(self) -> datetime:
        """Simulcast anchor: every screen plays (now - anchor) mod length."""
        return self.starts_at


def parse_window(start: str, end: str) -> DailyWindow:
    return DailyWindow(
        _clock_time(start, "daily_window.start"), _clock_time(end, "daily_window.end")
    )


def _clock_time(raw: str, field_name: str) -> time:
    try:
        hours, minutes = raw.split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError
        return time(int(hours), int(minutes))
    except ValueError:
        raise Unprocessable(f"{raw!r} is not a time of day HH:MM", field=field_name) from None


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Unprocessable(f"unknown time zone {name!r}", field="timezone") from None


def check_rrule(rule: str, starts_at: datetime, timezone: str) -> str:
    """Parse once to refuse what dateutil cannot read; returns it trimmed."""
    cleaned = rule.strip().removeprefix("RRULE:")
    if not cleaned or len(cleaned) > 500:
        raise Unprocessable("rrule must be a non-empty RRULE body", field="rrule")
    try:
        start = starts_at.astimezone(zone(timezone)).replace(tzinfo=None)
        rrulestr(cleaned, dtstart=start)
    except (ValueError, TypeError, KeyError) as error:
        raise Unprocessable(f"invalid RRULE: {error}", field="rrule") from None
    return cleaned


def check_window(starts_at: datetime, ends_at: datetime) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise Unprocessable("times need a UTC offset", field="starts_at")
    if ends_at <= starts_at:
        raise Unprocessable("ends_at must be after starts_at", field="ends_at")


def occurrences(
    schedule: Schedule, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The schedule's on-air intervals inside ``[start, end)``, in order."""
    lo, hi = max(start, schedule.starts_at), min(end, schedule.ends_at)
    if lo >= hi:
        return []
    if schedule.daily_window is None and schedule.rrule is None:
        return [(lo, hi)]
    tz = zone(schedule.timezone)
    window = schedule.daily_window or DailyWindow(time(0, 0), time(0, 0))
    found: list[tuple[datetime, datetime]] = []
    for day in _days(schedule, tz, lo - timedelta(days=1), hi):
        on = datetime.combine(day, window.start, tz)
        off_day = day + timedelta(days=1) if window.crosses_midnight else day
        off = datetime.combine(off_day, window.end, tz)
        a, b = max(on, lo), min(off, hi)
        if a < b:
            found.append((a, b))
    return found


def _days(schedule: Schedule, tz: ZoneInfo, lo: datetime, hi: datetime) -> list[date]:
    first = lo.astimezone(tz).date()
    last = hi.astimezone(tz).date()
    if (last - first).days > MAX_OCCURRENCE_DAYS:
        last = first + timedelta(days=MAX_OCCURRENCE_DAYS)
    if schedule.rrule is None:
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]
    origin = schedule.starts_at.astimezone(tz).replace(tzinfo=None)
    origin = datetime.combine(origin.date(), time(0, 0))
    rule = rrulestr(schedule.rrule, dtstart=origin)
    window_lo = datetime.combine(first, time(0, 0))
    window_hi = datetime.combine(last, time(0, 0))
    return list(dict.fromkeys(d.date() for d in rule.between(window_lo, window_hi, inc=True)))
