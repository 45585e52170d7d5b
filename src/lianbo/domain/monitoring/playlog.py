"""Check proof-of-play rows against what the manifest allowed (pure).

A row says a terminal played ``sha256`` (for ``schedule_id``) from
``started_at`` to ``ended_at``. It is ``ok`` when the asset is approved and
the manifest allowed it then; ``unauthorised`` (→ an unauthorised-content
alarm) when the sha256 is unknown, not approved, or not allowed at that
moment; ``rejected`` (stored nowhere, reason given to the terminal) when
its times cannot be true: ends before it starts, lies in the future beyond
the clock slack, or further in the past than a terminal keeps logs.

A batch holds up to 500 rows and a busy server takes tens of thousands a
second, so ``check_batch`` is the per-row hot path: it parses the decoded
JSON by hand (no schema objects per row) and hoists every bound out of the
loop; ``roll_up`` sums a batch per hour and asset before anything is stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from lianbo.domain.text import refusal, refused_character

FUTURE_SLACK = timedelta(seconds=120)  # terminal clocks may run this far ahead
MAX_AGE = timedelta(days=7)  # older rows are not accepted as proof
MAX_LENGTH = timedelta(hours=24)  # a single play longer than this is a broken clock

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SECOND = timedelta(seconds=1)
_HOUR = timedelta(hours=1)


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

# A kept row: (index in the batch, the row, ok | unauthorised, why if not ok).
Kept = tuple[int, PlayRow, PlayCheck, str]


def _times(row: PlayRow, now: datetime) -> str:
    return _bad_times(row.started_at, row.ended_at, now + FUTURE_SLACK, now - MAX_AGE)


def _bad_times(start: datetime, end: datetime, latest: datetime, earliest: datetime) -> str:
    if end < start:
        return "ends before it starts"
    if end - start > MAX_LENGTH:
        return "plays longer than 24 h"
    if start > latest or end > latest:
        return "in the future"
    if start < earliest:
        return "older than 7 days"
    return ""


_OK = PlayResult(PlayCheck.OK)  # shared: the common answer, made once
_NOT_IN_MANIFEST = PlayResult(PlayCheck.UNAUTHORISED, "asset not in the manifest at that time")
_NOT_SCHEDULED = PlayResult(PlayCheck.UNAUTHORISED, "schedule did not allow the asset then")


def _allowed_now(row: PlayRow, allowed: Allowed) -> PlayResult:
    middle = row.started_at + (row.ended_at - row.started_at) / 2
    schedules = allowed(middle)
    if row.sha256 not in schedules:
        return _NOT_IN_MANIFEST
    if row.schedule_id is not None and row.schedule_id not in schedules[row.sha256]:
        return _NOT_SCHEDULED
    return _OK


def _content(sha256: str, approved: Collection[str], known: Collection[str]) -> str:
    """Why the content itself is unauthorised; empty when approved (the manifest decides)."""
    if sha256 not in known:
        return "unknown sha256"
    return "" if sha256 in approved else "asset not approved"


def check_play(
    row: PlayRow, allowed: Allowed, approved: Collection[str], known: Collection[str], now: datetime
) -> PlayResult:
    """Judge ``row`` at ``now``; ``approved`` ⊆ ``known`` are sha256 sets."""
    problem = _times(row, now)
    if problem:
        return PlayResult(PlayCheck.REJECTED, problem)
    reason = _content(row.sha256, approved, known)
    if reason:
        return PlayResult(PlayCheck.UNAUTHORISED, reason)
    return _allowed_now(row, allowed)


def _moment(raw: dict[str, Any], name: str) -> datetime:
    value = raw.get(name)
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError(f"{name} is not an RFC 3339 time with offset")
    return moment


def parse_row(raw: Any) -> PlayRow:
    """One decoded JSON entry as a ``PlayRow``; ValueError names what is wrong."""
    if not isinstance(raw, dict):
        raise ValueError("not an object")
    sha256 = raw.get("sha256")
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise ValueError("sha256 is not 64 lowercase hex digits")
    schedule_id = raw.get("schedule_id")
    if schedule_id is not None and (not isinstance(schedule_id, str) or len(schedule_id) > 32):
        raise ValueError("schedule_id is not a schedule id")
    character = refused_character(schedule_id or "")
    if character is not None:  # PostgreSQL cannot store a NUL: refused on every store
        raise ValueError(refusal("schedule_id", character))
    return PlayRow(sha256, schedule_id, _moment(raw, "started_at"), _moment(raw, "ended_at"))


def check_batch(
    raw_entries: Sequence[Any],
    allowed: Allowed,
    approved: Collection[str],
    known: Collection[str],
    now: datetime,
) -> tuple[list[Kept], list[dict[str, Any]]]:
    """Every entry judged as ``check_play`` would: (kept rows, rejected {index, reason}).

    Same outcome row for row as ``parse_row`` + ``check_play``; the content
    facts are looked up once per distinct sha256 and the time bounds once
    per batch.
    """
    latest, earliest = now + FUTURE_SLACK, now - MAX_AGE
    verdicts: dict[str, str] = {}
    kept: list[Kept] = []
    rejected: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_entries):
        try:
            row = parse_row(raw)
        except ValueError as error:
            rejected.append({"index": index, "reason": f"malformed: {error}"})
            continue
        problem = _bad_times(row.started_at, row.ended_at, latest, earliest)
        if problem:
            rejected.append({"index": index, "reason": problem})
            continue
        reason = verdicts.get(row.sha256)
        if reason is None:  # once per distinct sha256 of the batch
            reason = verdicts[row.sha256] = _content(row.sha256, approved, known)
        if reason:
            kept.append((index, row, PlayCheck.UNAUTHORISED, reason))
            continue
        result = _allowed_now(row, allowed)
        kept.append((index, row, result.check, result.reason))
    return kept, rejected


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC hour ``moment`` falls in (rollups are hourly)."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def roll_up(
    rows: Iterable[PlayRow], key_of: Mapping[str, str]
) -> dict[tuple[datetime, str], tuple[int, float]]:
    """Plays and seconds on air per (UTC hour started in, asset key) of ``rows``.

    ``key_of`` maps a sha256 to its asset id; a sha256 it lacks counts under
    itself (unknown content is still reported).
    """
    totals: dict[tuple[datetime, str], tuple[int, float]] = {}
    hour = end = None
    for row in rows:
        start = row.started_at
        if hour is None or end is None or not hour <= start < end:  # rows come in time order
            hour = hour_of(start)
            end = hour + _HOUR
        key = (hour, key_of.get(row.sha256, row.sha256))
        plays, seconds = totals.get(key, (0, 0.0))
        totals[key] = (plays + 1, seconds + (row.ended_at - start) / _SECOND)
    return totals
