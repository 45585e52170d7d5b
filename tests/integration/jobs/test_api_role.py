"""An API process (``LIANBO_ROLE=api``) never runs a job; ``all`` does."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from lianbo.api.app import create_app
from lianbo.bootstrap import bootstrap
from lianbo.config import Settings

pytestmark = pytest.mark.integration


def running_coroutines() -> set[str]:
    return {
        getattr(task.get_coro(), "__qualname__", "")
        for task in asyncio.all_tasks()
        if not task.done()
    }


@pytest.mark.parametrize("role", ["api", "all"])
async def test_only_role_all_runs_jobs_in_the_server(
    role: str, tmp_path: Path, sqlite_template: Path
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(sqlite_template, data_dir)
    settings = Settings(data_dir=data_dir, role=role)  # type: ignore[arg-type]
    app = create_app(container=bootstrap(settings))
    # The lifespan has started every background task by the time it yields.
    async with app.router.lifespan_context(app):
        running = running_coroutines()
    assert "_lead" in running  # the server's other background work runs (leader duties)
    assert ("run_worker" in running) is (role == "all")
