"""Check proof-of-play rows against what the manifest allowed (pure).

A row says a terminal played ``sha256`` (for ``schedule_id``) from
``started_at`` to ``ended_at``. It is ``ok`` when the asset is approved and
the manifest allowed it then; ``unauthorised`` (→ an unauthorised-content
alarm) when the sha256 is unknown, not approved, or not allowed at that
moment; ``rejected`` (stored nowhere, reason given to the terminal) when
its times cannot be true: ends before it starts, lies in the future beyond
the clock slack, or further in the past than a terminal keeps logs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

FUTURE_SLACK = timedelta(seconds=120)  # terminal clocks may run this far ahead
MAX_AGE = timedelta(days=7)  # older rows are not accepted as proof
MAX_LENGTH = timedelta(hours=24)  # a single play longer than this is a broken clock


class PlayCheck(StrEnum):
    OK = "ok"
    UNAUTHORISED = "unauthorised"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class PlayRow:
    """One proof-of-play entry from a terminal."""

    sha256: str
    schedule_id: str | None
    started_at: datetime
    ended_at: datetime


@dataclass(frozen=True, slots=True)
class PlayResult:
    """The outcome and, unless ``ok``, why."""

    check: PlayCheck
    reason: str = ""


# (moment) -> the sha256s the terminal's manifest allowed on screen then,
# each with the schedule ids that allowed it (None: an alert or fallback).
Allowed = Callable[[datetime], dict[str, set[str | None]]]


def _times(row: PlayRow, now: datetime) -> str:
    if row.ended_at < row.started_at:
        return "ends before it starts"
    if row.ended_at - row.started_at > MAX_LENGTH:
        return "plays longer than 24 h"
    if row.started_at > now + FUTURE_SLACK or row.ended_at > now + FUTURE_SLACK:
        return "in the future"
    if row.started_at < now - MAX_AGE:
        return "older than 7 days"
    return ""


def check_play(
    row: PlayRow, allowed: Allowed, approved: Collection[str], known: Collection[str], now: datetime
) -> PlayResult:
    """Judge ``row`` at ``now``; ``approved`` ⊆ ``known`` are sha256 sets."""
    problem = _times(row, now)
    if problem:
        return PlayResult(PlayCheck.REJECTED, problem)
    if row.sha256 not in known:
        return PlayResult(PlayCheck.UNAUTHORISED, "unknown sha256")
    if row.sha256 not in approved:
        return PlayResult(PlayCheck.UNAUTHORISED, "asset not approved")
    middle = row.started_at + (row.ended_at - row.started_at) / 2
    schedules = allowed(middle)
    if row.sha256 not in schedules:
        return PlayResult(PlayCheck.UNAUTHORISED, "asset not in the manifest at that time")
    if row.schedule_id is not None and row.schedule_id not in schedules[row.sha256]:
        return PlayResult(PlayCheck.UNAUTHORISED, "schedule did not allow the asset then")
    return PlayResult(PlayCheck.OK)
