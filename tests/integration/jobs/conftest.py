"""A fresh migrated PostgreSQL database (revision 0009: the job queue's schema)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import _fresh_settings


@pytest.fixture
async def pg_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """The URL of a new database cloned from the migrated template."""
    server = request.getfixturevalue("postgres_template")
    settings = await _fresh_settings("postgres", tmp_path, sqlite_template, server)
    return settings.effective_database_url
