"""Line charts for the reports page: uptime share per group over time.

Pure geometry over numbers, like ``charts.py``: the template draws the
polylines and axis labels it is given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

WIDTH = 720.0
HEIGHT = 220.0
LEFT = 44.0
RIGHT = 12.0
TOP = 12.0
BOTTOM = 26.0
MAX_SERIES = 6


@dataclass(frozen=True, slots=True)
class Series:
    """One group's line: SVG points, its last value, its colour slot."""

    key: str
    label: str
    points: str
    last: float | None
    slot: int


@dataclass(frozen=True, slots=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True, slots=True)
class LineChart:
    width: float
    height: float
    series: list[Series]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    left: float = LEFT
    right_edge: float = WIDTH - RIGHT
    bottom_edge: float = HEIGHT - BOTTOM


def _x(index: int, buckets: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return round(LEFT + span * (index / max(buckets - 1, 1)), 1)


def _y(share: float) -> float:
    return round(TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - share), 1)


def uptime_chart(
    values: Mapping[str, Mapping[int, float | None]],
    labels: Mapping[str, str],
    bucket_labels: Sequence[str],
) -> LineChart | None:
    """Lines of uptime (0..1) per group over ``bucket_labels``; None when empty.

    Buckets with no known time break nothing: the line joins the known ones.
    The groups with the most data come first, at most ``MAX_SERIES``.
    """
    buckets = len(bucket_labels)
    if not values or not buckets:
        return None
    ranked = sorted(values, key=lambda k: (-len(values[k]), k))[:MAX_SERIES]
    series = []
    for slot, key in enumerate(ranked):
        known = sorted((i, v) for i, v in values[key].items() if v is not None)
        points = " ".join(f"{_x(i, buckets)},{_y(v)}" for i, v in known)
        last = known[-1][1] if known else None
        series.append(Series(key, labels.get(key, key), points, last, slot))
    y_ticks = [Tick(_y(share), f"{round(share * 100)}%") for share in (0.0, 0.5, 1.0)]
    every = max(1, buckets // 6)
    x_ticks = [Tick(_x(i, buckets), bucket_labels[i]) for i in range(0, buckets, every)]
    return LineChart(WIDTH, HEIGHT, series, y_ticks, x_ticks)
