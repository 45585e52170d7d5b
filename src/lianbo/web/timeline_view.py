"""What plays where, drawn: a terminal's resolved timeline as one SVG bar,
and the reason each entry won in the operator's language.

The priority rule explains itself in English (``domain/priority.explain``);
those few sentences are matched here and said again through the console's
message table, so the Chinese reads as Chinese rather than as a pattern.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from lianbo.domain.regions import LEVEL_NAMES
from lianbo.services.manifests import TimelineEntry
from lianbo.web.i18n import translate

BAR_WIDTH = 1000.0
TICK_HOURS = (1, 2, 3, 6, 12, 24)
# Label widths in SVG units at the bar's 13 px font: CJK is about twice Latin.
WIDE_CHAR = 13.5
NARROW_CHAR = 7.5
LABEL_PADDING = 7.0
# Ticks this close to either end would have their labels cut off.
EDGE = 18.0

_REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"nothing scheduled: tier default filler$"), "reason.filler"),
    (re.compile(r"only (\w+) schedule on air$"), "reason.only"),
    (re.compile(r"(\w+) outranks (\w+)$"), "reason.outranks"),
    (re.compile(r"more specific target \((\w+) over (\w+)\)$"), "reason.specific"),
    (re.compile(r"same class and target level: published later$"), "reason.later"),
    (re.compile(r"tie broken by schedule id$"), "reason.tie"),
)


def reason_text(language: str, reason: str) -> str:
    """The priority rule's explanation in ``language`` (unknown ones unchanged)."""
    for pattern, key in _REASONS:
        found = pattern.match(reason)
        if found is None:
            continue
        words = [_word(language, key, value) for value in found.groups()]
        return translate(language, key, **dict(zip(("a", "b"), words, strict=False)))
    return reason


def _word(language: str, key: str, value: str) -> str:
    if key == "reason.specific" and value in LEVEL_NAMES:
        word = translate(language, f"level.{LEVEL_NAMES.index(value) + 1}")
    else:
        word = translate(language, f"priority.{value}")
    # Mid-sentence in English: "public service outranks local".
    return word.lower() if language == "en" else word


def _text_width(text: str) -> float:
    return sum(WIDE_CHAR if ord(ch) >= 0x2E80 else NARROW_CHAR for ch in text)


def fit_label(text: str, room: float) -> str:
    """``text`` cut (with …) to fit ``room`` SVG units; '' when nothing useful fits."""
    if _text_width(text) <= room:
        return text
    cut = text
    while cut and _text_width(cut + "…") > room:
        cut = cut[:-1]
    return cut + "…" if len(cut) >= 2 else ""


@dataclass(frozen=True, slots=True)
class BarSegment:
    x: float
    width: float
    priority: str  # a priority class, or "none" for the tier's default filler
    label: str
    entry: TimelineEntry


@dataclass(frozen=True, slots=True)
class BarTick:
    x: float
    label: str
    day: bool  # a local midnight: the label carries the date


def bar(
    entries: list[TimelineEntry], start: datetime, end: datetime, zone: ZoneInfo
) -> tuple[list[BarSegment], list[BarTick]]:
    """Segments (SVG x/width over ``BAR_WIDTH``) and hour ticks for the window."""
    span = (end - start).total_seconds()
    if span <= 0:
        return [], []

    def x_of(moment: datetime) -> float:
        return round(BAR_WIDTH * (moment - start).total_seconds() / span, 2)

    segments = []
    for entry in entries:
        x, right = x_of(max(entry.start, start)), x_of(min(entry.end, end))
        name = entry.schedule.name if entry.schedule else ""
        label = fit_label(name, right - x - 2 * LABEL_PADDING)
        priority = entry.schedule.priority.value if entry.schedule else "none"
        segments.append(BarSegment(x, round(right - x, 2), priority, label, entry))
    return segments, _ticks(start, end, zone, x_of)


def _ticks(
    start: datetime, end: datetime, zone: ZoneInfo, x_of: Callable[[datetime], float]
) -> list[BarTick]:
    hours = (end - start).total_seconds() / 3600
    step = next((h for h in TICK_HOURS if hours / h <= 12), TICK_HOURS[-1])
    local = start.astimezone(zone)
    moment = local.replace(minute=0, second=0, microsecond=0)
    if moment < local:
        moment += timedelta(hours=1)
    ticks = []
    while moment <= end:
        x = x_of(moment)
        if moment.hour % step == 0 and EDGE <= x <= BAR_WIDTH - EDGE:
            midnight = moment.hour == 0
            label = moment.strftime("%m-%d") if midnight else moment.strftime("%H:%M")
            ticks.append(BarTick(x, label, midnight))
        moment += timedelta(hours=1)
    return ticks
