"""What a database snapshot holds: schema revision, row counts, blob references.

Run on a plain (sync) SQLAlchemy connection, so the same queries read a
SQLite backup copy and a PostgreSQL snapshot inside pg_dump's transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection

from lianbo.adapters.db import (
    alert_tables,
    monitoring_tables,
    outline_tables,
    shared_tables,
    tables,
)
from lianbo.domain.backup import StoreFacts, is_sha256

# Every table module, so the metadata lists every table to count.
_MODULES = (tables, alert_tables, monitoring_tables, shared_tables, outline_tables)


def store_facts(connection: Connection) -> StoreFacts:
    """Revision, rows per table and every referenced sha256, in one snapshot."""
    revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    counts = {
        table.name: int(connection.execute(select(func.count()).select_from(table)).scalar_one())
        for table in tables.Base.metadata.sorted_tables
    }
    return StoreFacts(revision=str(revision), counts=counts, blobs=frozenset(blob_refs(connection)))


def blob_refs(connection: Connection) -> set[str]:
    """Every media file a row needs: assets, renditions, screenshots, evidence.

    Thumbnails, sprites and expected frames under ``media/derived`` are not
    here: they are a cache, made again on demand (ADR 0007).
    """
    asset = tables.AssetRow.__table__
    rendition = tables.RenditionRow.__table__
    shot = monitoring_tables.ScreenshotRow.__table__
    found: set[str] = set()
    for column in (asset.c.sha256, rendition.c.sha256, shot.c.sha256):
        found.update(connection.execute(select(column).where(column.is_not(None))).scalars())
    alarm = monitoring_tables.AlarmRow.__table__
    for evidence in connection.execute(select(alarm.c.evidence)).scalars():
        found.update(_evidence_blobs(evidence))
    return {sha for sha in found if is_sha256(sha)}


def _evidence_blobs(evidence: Any) -> list[str]:
    """An alarm's evidence names the screenshot that raised it."""
    if isinstance(evidence, dict) and isinstance(evidence.get("screenshot"), str):
        return [evidence["screenshot"]]
    return []
