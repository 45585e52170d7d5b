"""The store adapters' refusals, without a database (adapters/db/backup_*.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lianbo.adapters.db.backup_postgres import PostgresDump
from lianbo.adapters.db.backup_sqlite import SqliteDump
from lianbo.domain.backup import BackupFailed, BackupRefused
from tests.support.services import free_port


async def test_a_database_out_of_reach_is_one_clear_line() -> None:
    port = free_port()  # nothing listens there
    store = PostgresDump(f"postgresql+asyncpg://lianbo:secret@127.0.0.1:{port}/lianbo")
    with pytest.raises(BackupFailed) as failed:
        await store.is_empty()
    assert failed.value.message == f"cannot connect to the database lianbo on 127.0.0.1:{port}"
    assert "secret" not in failed.value.message


async def test_a_sqlite_backup_needs_a_database(tmp_path: Path) -> None:
    store = SqliteDump(tmp_path / "lianbo.db")
    assert await store.is_empty()
    with pytest.raises(BackupRefused, match=r"no database at .* \(run lianbo init first\)"):
        await store.dump(tmp_path / "copy")
