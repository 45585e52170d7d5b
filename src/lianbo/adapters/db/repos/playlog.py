"""Play-log rows in bulk: content facts, the hot insert path and retention.

Terminals send up to 500 rows a request and a server takes tens of thousands
a second, so on SQLite the rows go to the driver as plain tuples in one
``executemany``: the times are formatted here exactly as ``UTCDateTime``
stores them on SQLite (naive UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``), which
skips SQLAlchemy's per-value bind processing (a third of the insert's cost).
PostgreSQL takes a Core ``insert`` executemany (asyncpg binds natively).

Retention on SQLite uses the index on the hour a row started in
(``substr(started_at, 1, 13)``, migration 0006) rather than one on
``started_at``: a batch covers minutes to hours of plays interleaved with
every other screen's, so a ``started_at`` index took one B-tree page write
per row, the hour index one per hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, literal, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.monitoring_tables import PlayLogRow
from lianbo.adapters.db.tables import AssetRow, RenditionRow

# One stored row, in COLUMNS order.
PlayRecord = tuple[str, str, str | None, str | None, datetime, datetime, datetime, str]
COLUMNS = (
    "terminal_id",
    "sha256",
    "asset_id",
    "schedule_id",
    "started_at",
    "ended_at",
    "received_at",
    "verdict",
)
_SQLITE_INSERT = (
    f"INSERT INTO play_log ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
)
# The expression must read exactly as in the index for SQLite to use it.
_SQLITE_FORGET = text(
    "DELETE FROM play_log WHERE substr(started_at, 1, 13) <= :hour AND started_at < :before"
)


def sqlite_time(moment: datetime) -> str:
    """``moment`` (aware) as ``UTCDateTime`` stores it on SQLite."""
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("naive datetime given to a UTC column")
    # Shift to UTC and cut the offset off the text: half the cost of
    # astimezone + replace(tzinfo=None), and this runs 1,500 times a batch.
    return (moment - offset if offset else moment).isoformat(" ", "microseconds")[:26]


def _sqlite_rows(rows: Sequence[PlayRecord]) -> list[tuple[str | None, ...]]:
    # Consecutive plays share their boundaries and a batch one received_at:
    # format each distinct moment once (hashing a datetime is ~20 times
    # cheaper than formatting it).
    text = {m: sqlite_time(m) for m in {m for row in rows for m in row[4:7]}}
    return [
        (terminal_id, sha, asset, schedule, text[start], text[end], text[got], verdict)
        for terminal_id, sha, asset, schedule, start, end, got, verdict in rows
    ]


async def insert_plays(session: AsyncSession, rows: Sequence[PlayRecord]) -> None:
    """Insert ``rows`` in one executemany (see the module docstring)."""
    if not rows:
        return
    if session.get_bind().dialect.name == "sqlite":
        connection = await session.connection()
        await connection.exec_driver_sql(_SQLITE_INSERT, _sqlite_rows(rows))
        return
    table = PlayLogRow.metadata.tables["play_log"]
    await session.execute(insert(table), [dict(zip(COLUMNS, row, strict=True)) for row in rows])


async def content_rows(
    session: AsyncSession, sha256s: Sequence[str]
) -> list[tuple[str | None, str, str]]:
    """(sha256, asset id, review state) of originals, then renditions, among ``sha256s``.

    One statement (a round trip per batch saved): asked once per play log.
    """
    originals = select(literal(0), AssetRow.sha256, AssetRow.id, AssetRow.review_state).where(
        AssetRow.sha256.in_(sha256s)
    )
    derived = (
        select(literal(1), RenditionRow.sha256, AssetRow.id, AssetRow.review_state)
        .join(AssetRow, AssetRow.id == RenditionRow.asset_id)
        .where(RenditionRow.sha256.in_(sha256s))
    )
    rows: Sequence[Any] = (await session.execute(union_all(originals, derived))).all()
    return [(sha, asset_id, state) for _, sha, asset_id, state in sorted(rows, key=_first)]


def _first(row: Any) -> int:
    return int(row[0])


async def forget_plays(session: AsyncSession, before: datetime) -> int:
    """Delete rows that started before ``before``; how many."""
    if session.get_bind().dialect.name == "sqlite":
        cutoff = sqlite_time(before)
        result = await session.execute(_SQLITE_FORGET, {"hour": cutoff[:13], "before": cutoff})
    else:
        result = await session.execute(delete(PlayLogRow).where(PlayLogRow.started_at < before))
    return int(getattr(result, "rowcount", 0) or 0)
