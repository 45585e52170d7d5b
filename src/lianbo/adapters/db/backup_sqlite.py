"""Backup and restore of the embedded SQLite store.

The copy is made with SQLite's online backup API in one step: it reads one
consistent snapshot while the server keeps writing (WAL readers never block
writers), and the copy is a single self-contained file (no -wal beside it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from lianbo.adapters.db.backup_facts import store_facts
from lianbo.domain.backup import BackupFailed, BackupRefused, StoreFacts


class SqliteDump:
    """The ``StoreDump`` port for the SQLite file in the data dir."""

    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path

    async def dump(self, target: Path) -> StoreFacts:
        if not self.path.is_file():
            raise BackupRefused(f"no database at {self.path} (run lianbo init first)")
        try:
            await asyncio.to_thread(self._copy, target)
        except sqlite3.Error:
            raise BackupFailed(f"cannot read {self.path} (locked or damaged)") from None
        return await asyncio.to_thread(facts_of, target)

    def _copy(self, target: Path) -> None:
        source = sqlite3.connect(self.path, timeout=30)
        copy = sqlite3.connect(target)
        try:
            # pages=-1: all in one step, so no write can land between steps.
            source.backup(copy, pages=-1)
        finally:
            copy.close()
            source.close()

    async def is_empty(self) -> bool:
        if not self.path.exists():
            return True
        return not await asyncio.to_thread(_has_tables, self.path)

    async def restore(self, source: Path) -> StoreFacts:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_name(self.path.name + ".restoring")
        await asyncio.to_thread(shutil.copyfile, source, temp)
        os.replace(temp, self.path)
        return await asyncio.to_thread(facts_of, self.path)

    async def discard(self) -> None:
        for suffix in ("", "-wal", "-shm", ".restoring"):
            with contextlib.suppress(FileNotFoundError):
                self.path.with_name(self.path.name + suffix).unlink()


def facts_of(path: Path) -> StoreFacts:
    """Read the facts of a SQLite file (a backup copy or a restored store)."""
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return store_facts(connection)
    finally:
        engine.dispose()


def _has_tables(path: Path) -> bool:
    db = sqlite3.connect(path)
    try:
        return bool(
            db.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
        )
    finally:
        db.close()
