"""Backup and restore of a PostgreSQL store with pg_dump / pg_restore.

The facts (row counts, referenced media) and the dump come from one
snapshot: a REPEATABLE READ transaction exports its snapshot and pg_dump
runs with ``--snapshot``, so the media list matches the dump exactly even
while the servers write. Restores run in one transaction: a failed restore
leaves the database as empty as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from lianbo.adapters.db.backup_facts import store_facts
from lianbo.domain.backup import BackupFailed, StoreFacts

_USER_TABLES = text(
    "SELECT count(*) FROM information_schema.tables "
    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
)
_USER_TABLE_NAMES = text(
    "SELECT table_schema, table_name FROM information_schema.tables "
    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'"
)


def pg_tool(name: str) -> Path:
    """``pg_dump`` or ``pg_restore``: the newest installed (it reads older
    servers too), else the one on PATH."""
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True, key=_major):
        if (folder / name).is_file():
            return folder / name
    found = shutil.which(name)
    if found is None:
        raise BackupFailed(f"{name} not found (install the PostgreSQL client tools)")
    return Path(found)


def _major(folder: Path) -> int:
    version = folder.parent.name
    return int(version) if version.isdigit() else 0


class PostgresDump:
    """The ``StoreDump`` port for the database ``LIANBO_DATABASE_URL`` names."""

    kind = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = make_url(url)

    @contextlib.asynccontextmanager
    async def _connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection of its own; a database out of reach is one clear line."""
        engine = create_async_engine(self.url, poolclass=NullPool)
        try:
            try:
                connection = await engine.connect()
            except (OSError, SQLAlchemyError):
                raise BackupFailed(f"cannot connect to the database {self._where()}") from None
            try:
                yield connection
            finally:
                await connection.close()
        finally:
            await engine.dispose()

    def _where(self) -> str:
        url = self.url
        return f"{url.database} on {url.host or 'localhost'}:{url.port or 5432}"

    async def dump(self, target: Path) -> StoreFacts:
        async with self._connect() as connection:
            snapshot = await connection.execution_options(isolation_level="REPEATABLE READ")
            await snapshot.begin()
            exported = (await snapshot.execute(text("SELECT pg_export_snapshot()"))).scalar()
            facts = await snapshot.run_sync(store_facts)
            # The exporting transaction stays open until pg_dump is done.
            await _run(
                pg_tool("pg_dump"),
                *self._connection_args(),
                "--format=custom",
                f"--snapshot={exported}",
                f"--file={target}",
                env=self._env(),
            )
            await snapshot.rollback()
        return facts

    async def is_empty(self) -> bool:
        async with self._connect() as connection:
            return not (await connection.execute(_USER_TABLES)).scalar()

    async def restore(self, source: Path) -> StoreFacts:
        await _run(
            pg_tool("pg_restore"),
            *self._connection_args(),
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            str(source),
            env=self._env(),
        )
        async with self._connect() as connection:
            return await connection.run_sync(store_facts)

    async def discard(self) -> None:
        """Drop what a restore made. pg_restore itself is all or nothing; this is
        for a check after it that failed. The database had no tables before
        (``is_empty``), so every table in it now is the restore's."""
        async with self._connect() as connection:
            found = await connection.execute(_USER_TABLE_NAMES)
            names = [f'"{schema}"."{table}"' for schema, table in found.all()]
            if names:
                await connection.execute(text(f"DROP TABLE IF EXISTS {', '.join(names)} CASCADE"))
            await connection.commit()

    def _connection_args(self) -> list[str]:
        url: URL = self.url
        args = [f"--dbname={url.database or ''}"]
        if url.host:
            args.append(f"--host={url.host}")
        if url.port:
            args.append(f"--port={url.port}")
        if url.username:
            args.append(f"--username={url.username}")
        return [*args, "--no-password"]

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.url.password:
            env["PGPASSWORD"] = str(self.url.password)
        return env


async def _run(tool: Path, *args: str, env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        str(tool),
        *args,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    _, stderr = await process.communicate()
    if process.returncode != 0:
        lines = stderr.decode(errors="replace").strip().splitlines()
        raise BackupFailed(f"{tool.name} failed: {lines[0] if lines else process.returncode}")
