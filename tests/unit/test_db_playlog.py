"""Play-log times written straight to SQLite read as UTCDateTime would have written them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite

from lianbo.adapters.db.repos.playlog import sqlite_time
from lianbo.adapters.db.tables import UTCDateTime

MOMENTS = [
    datetime(2026, 11, 22, 16, 4, 31, 84318, tzinfo=UTC),
    datetime(2026, 11, 22, 16, 4, 31, tzinfo=UTC),  # no microseconds: still six digits
    datetime(2026, 11, 23, 0, 30, tzinfo=timezone(timedelta(hours=8))),  # previous UTC day
    datetime(2026, 1, 1, 5, 0, 0, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-7))),
]


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_sqlite_text_is_what_the_column_type_stores(moment: datetime) -> None:
    dialect = sqlite.dialect()
    stored = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)  # as an insert binds
    assert stored is not None
    assert sqlite_time(moment) == stored(moment)


def test_sqlite_text_sorts_as_time_and_starts_with_the_utc_hour() -> None:
    texts = [sqlite_time(m) for m in MOMENTS]
    assert sorted(texts) == [sqlite_time(m) for m in sorted(MOMENTS)]
    assert sqlite_time(MOMENTS[2])[:13] == "2026-11-22 16"


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        sqlite_time(datetime(2026, 11, 22, 16, 0))
