"""Play-log group commits: concurrent batches share transactions, each answer means stored."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lianbo.adapters.db.monitoring_tables import PlayLogRow, PlayRollupRow
from lianbo.adapters.db.repos.monitoring import Rollup
from lianbo.services.play_writes import PlayWrites, merge_rollups
from tests.support.env import Env

pytestmark = pytest.mark.integration

HOUR = datetime(2026, 11, 22, 9, tzinfo=UTC)


def batch(terminal: str, rows: int, sha: str | None = "a" * 64) -> list[Any]:
    """``rows`` ten-second plays of ``sha`` in HOUR (None: a row no store takes)."""
    return [
        (
            terminal,
            sha,
            "asset1",
            None,
            HOUR + timedelta(seconds=10 * k),
            HOUR + timedelta(seconds=10 * k + 10),
            HOUR + timedelta(minutes=59),
            "ok",
        )
        for k in range(rows)
    ]


def rollup(rows: int) -> list[Rollup]:
    return [(HOUR, "510107", "home", "asset1", rows, 10.0 * rows)]


async def stored(env: Env) -> tuple[dict[str, int], list[tuple[Any, ...]]]:
    """(rows per terminal, rollup rows)."""
    async with env.container.uow() as uow:
        counts = await uow.session.execute(
            select(PlayLogRow.terminal_id, func.count()).group_by(PlayLogRow.terminal_id)
        )
        rollups = await uow.session.execute(
            select(PlayRollupRow.asset_key, PlayRollupRow.plays, PlayRollupRow.seconds)
        )
        return {t: int(n) for t, n in counts.all()}, [tuple(r) for r in rollups.all()]


async def test_concurrent_batches_share_commits_and_all_land(env: Env) -> None:
    writes = PlayWrites(env.container.uow)
    await asyncio.gather(*(writes.write(batch(f"t{i}", 50 + i), rollup(50 + i)) for i in range(8)))
    counts, rollups = await stored(env)
    assert counts == {f"t{i}": 50 + i for i in range(8)}
    total = sum(50 + i for i in range(8))
    assert rollups == [("asset1", total, pytest.approx(10.0 * total))]
    assert 1 <= writes.groups < 8  # the first goes alone; the other seven wait and go together


async def test_a_bad_batch_fails_only_its_own_request(env: Env) -> None:
    writes = PlayWrites(env.container.uow)
    answers = await asyncio.gather(
        writes.write(batch("good1", 5), rollup(5)),
        writes.write(batch("good2", 6), rollup(6)),
        writes.write(batch("bad", 3, sha=None), rollup(3)),
        writes.write(batch("good3", 7), rollup(7)),
        return_exceptions=True,
    )
    assert answers[:2] == [None, None] and answers[3] is None
    assert isinstance(answers[2], IntegrityError)
    counts, rollups = await stored(env)
    assert counts == {"good1": 5, "good2": 6, "good3": 7}
    assert rollups == [("asset1", 18, pytest.approx(180.0))]


async def test_a_request_that_goes_away_still_gets_its_rows_stored(env: Env) -> None:
    writes = PlayWrites(env.container.uow)
    first = asyncio.ensure_future(writes.write(batch("first", 4), rollup(4)))
    gone = asyncio.ensure_future(writes.write(batch("gone", 3), rollup(3)))
    await asyncio.sleep(0)  # both queued
    gone.cancel()
    await first
    await writes.write(batch("later", 2), rollup(2))  # after the group that held "gone"
    counts, _ = await stored(env)
    assert counts == {"first": 4, "gone": 3, "later": 2}


def test_rollups_of_a_group_are_summed_per_key_in_key_order() -> None:
    other_hour = HOUR + timedelta(hours=1)
    merged = merge_rollups(
        [
            [(other_hour, "510107", "home", "b", 2, 20.0), (HOUR, "510107", "home", "a", 1, 5.0)],
            [(HOUR, "510107", "home", "a", 3, 7.5)],
            [(HOUR, "510104", "outdoor", "a", 1, 1.0)],
        ]
    )
    assert merged == [
        (HOUR, "510104", "outdoor", "a", 1, 1.0),
        (HOUR, "510107", "home", "a", 4, 12.5),
        (other_hour, "510107", "home", "b", 2, 20.0),
    ]
