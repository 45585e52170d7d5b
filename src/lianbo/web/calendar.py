"""The week calendar: schedule occurrences laid out as blocks in day columns.

Monday to Sunday in Beijing time, hours down the side. An occurrence that
crosses midnight is cut into one block per day; blocks that overlap in a
day get lanes (greedy, like any calendar app), drawn as a cascade.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from lianbo.domain.regions import normalise_code
from lianbo.domain.schedules import Schedule, occurrences
from lianbo.domain.terminals import Tier

DAY_MINUTES = 24 * 60
# A block this short (in minutes) is still drawn tall enough to see and hover.
MIN_BLOCK_MINUTES = 20
# Indent (in % of the column) per overlapping lane, and the most all lanes may take.
CASCADE_STEP = 30.0
CASCADE_MAX = 66.0


@dataclass
class Block:
    """One occurrence inside one day: position in % of the day and of the column."""

    schedule: Schedule
    start: datetime  # local
    end: datetime  # local
    top: float
    height: float
    lane: int = 0
    lanes: int = 1

    @property
    def left(self) -> float:
        """Overlapping blocks cascade: each lane is indented a little further,
        so every block keeps most of the column and its label stays readable."""
        return round(self.lane * min(CASCADE_STEP, CASCADE_MAX / self.lanes), 2)

    @property
    def width(self) -> float:
        return round(100 - self.left, 2)


@dataclass
class Day:
    date: date
    today: bool
    blocks: list[Block] = field(default_factory=list)


def week_of(raw: str | None, today: date) -> date:
    """The Monday of the week holding ``raw`` (YYYY-MM-DD), or of today."""
    try:
        chosen = date.fromisoformat(raw) if raw else today
    except ValueError:
        chosen = today
    if not 2000 <= chosen.year <= 2200:  # far years would overflow the week's end
        chosen = today
    return chosen - timedelta(days=chosen.weekday())


def week_bounds(monday: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The week as aware instants: Monday 00:00 to next Monday 00:00 local."""
    start = datetime.combine(monday, time(0, 0), zone)
    return start, datetime.combine(monday + timedelta(days=7), time(0, 0), zone)


def reaches(schedule: Schedule, region: str, tier: str) -> bool:
    """Whether the schedule's targets touch ``region``'s area and ``tier``.

    A target over the whole province touches a county in it; a target on a
    township touches the county above it: both are shown for that county.
    """
    targets = schedule.targets
    if tier and targets.tiers and Tier(tier) not in targets.tiers:
        return False
    if not region:
        return True
    code = normalise_code(region)
    return any(code.startswith(r) or r.startswith(code) for r in targets.regions)


def layout(schedules: list[Schedule], monday: date, zone: ZoneInfo, today: date) -> list[Day]:
    """Seven days, each with its blocks positioned and laned."""
    days = [Day(monday + timedelta(days=n), monday + timedelta(days=n) == today) for n in range(7)]
    start, end = week_bounds(monday, zone)
    for schedule in schedules:
        for on, off in occurrences(schedule, start, end):
            for piece in _split_by_day(on.astimezone(zone), off.astimezone(zone)):
                index = (piece[0].date() - monday).days
                if 0 <= index < 7:
                    days[index].blocks.append(_block(schedule, *piece))
    for day in days:
        _lanes(day.blocks)
    return days


def _split_by_day(on: datetime, off: datetime) -> list[tuple[datetime, datetime]]:
    pieces = []
    while on < off:
        midnight = datetime.combine(on.date() + timedelta(days=1), time(0, 0), on.tzinfo)
        pieces.append((on, min(off, midnight)))
        on = midnight
    return pieces


def _block(schedule: Schedule, on: datetime, off: datetime) -> Block:
    start_minutes = on.hour * 60 + on.minute
    minutes = (off - on).total_seconds() / 60
    shown = max(minutes, MIN_BLOCK_MINUTES)
    top = min(start_minutes, DAY_MINUTES - shown)
    return Block(
        schedule,
        on,
        off,
        round(100 * top / DAY_MINUTES, 3),
        round(100 * shown / DAY_MINUTES, 3),
    )


def _lanes(blocks: list[Block]) -> None:
    """Give overlapping blocks side-by-side lanes; each cluster shares its width."""
    blocks.sort(key=lambda b: (b.top, -b.height))
    cluster: list[Block] = []
    ends: list[float] = []  # bottom of the last block in each lane
    cluster_end = -1.0
    for block in blocks:
        if block.top >= cluster_end and cluster:
            _close(cluster, len(ends))
            cluster, ends = [], []
        lane = next((n for n, bottom in enumerate(ends) if bottom <= block.top), len(ends))
        if lane == len(ends):
            ends.append(0.0)
        ends[lane] = block.top + block.height
        block.lane = lane
        cluster.append(block)
        cluster_end = max(cluster_end, block.top + block.height)
    if cluster:
        _close(cluster, len(ends))


def _close(cluster: list[Block], lanes: int) -> None:
    for block in cluster:
        block.lanes = lanes
