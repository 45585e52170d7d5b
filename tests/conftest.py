"""Shared fixtures: real SQLite and real PostgreSQL, migrated once per run."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import structlog

from lianbo.api.app import create_app
from lianbo.bootstrap import bootstrap
from lianbo.config import Settings
from lianbo.services.setup import initialise
from tests.support.clock import FakeClock
from tests.support.env import Env
from tests.support.s3 import s3_env, s3_server  # noqa: F401 - fixtures
from tests.support.services import Postgres, missing, start_postgres

_databases = itertools.count(1)


_EXIT_STATUS = pytest.StashKey[int]()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[_EXIT_STATUS] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """End the process here, with the run's exit status, once every fixture
    is torn down and every report printed. A full run holds about 3 GB of
    objects by then, and the interpreter's own teardown (a garbage collection
    over all of it) took 3 minutes on a busy 2-core machine before the exit.
    ``LIANBO_TEST_SLOW_EXIT=1`` keeps the normal teardown."""
    status = config.stash.get(_EXIT_STATUS, None)
    if status is None or os.environ.get("LIANBO_TEST_SLOW_EXIT") == "1":
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


@pytest.fixture(autouse=True)
def _logging_as_found() -> Iterator[None]:
    """A test that configures structlog (a bench's entry point, a CLI
    command run in-process) must not change what later tests' captured
    logs see: its level filter would hide their info lines."""
    before = structlog.get_config()
    yield
    if structlog.get_config() != before:
        structlog.reset_defaults()
        structlog.configure(**before)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres | None]:
    server = start_postgres()
    yield server
    if server is not None:
        server.discard()


@pytest.fixture(scope="session")
async def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir migrated and loaded with regions once; tests copy it."""
    data_dir = tmp_path_factory.mktemp("template")
    container = bootstrap(Settings(data_dir=data_dir))
    await initialise(container)
    await container.close()
    return data_dir


@pytest.fixture(scope="session")
def postgres_template(
    postgres: Postgres | None, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Postgres, Path] | None:
    """A migrated database that each test clones with CREATE DATABASE ... TEMPLATE.

    Requested lazily from inside the async ``env`` fixture, so its async work
    runs on a loop of its own in a worker thread.
    """
    if postgres is None:
        return None
    data_dir = tmp_path_factory.mktemp("pgtemplate")

    async def build() -> None:
        import asyncpg

        admin = await asyncpg.connect(
            host="127.0.0.1", port=postgres.port, user="lianbo", database="postgres"
        )
        await admin.execute("CREATE DATABASE lianbo_template")
        await admin.close()
        url = postgres.url("lianbo_template")
        container = bootstrap(Settings(data_dir=data_dir, database_url=url))
        await initialise(container)
        await container.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, build()).result()
    return postgres, data_dir


async def _fresh_settings(
    backend: str,
    tmp_path: Path,
    sqlite_template: Path,
    postgres_template: tuple[Postgres, Path] | None,
) -> Settings:
    data_dir = tmp_path / "data"
    if backend == "sqlite":
        shutil.copytree(sqlite_template, data_dir)
        return Settings(data_dir=data_dir)
    if postgres_template is None:
        missing("PostgreSQL is not installed (apt-get install postgresql)")
    assert postgres_template is not None
    server, template_dir = postgres_template
    shutil.copytree(template_dir, data_dir)
    import asyncpg

    name = f"test_{next(_databases)}"
    admin = await asyncpg.connect(
        host="127.0.0.1", port=server.port, user="lianbo", database="postgres"
    )
    await admin.execute(f"CREATE DATABASE {name} TEMPLATE lianbo_template")
    await admin.close()
    return Settings(data_dir=data_dir, database_url=server.url(name))


async def _drop_database(settings: Settings) -> None:
    """Drop a test's database: a whole run would otherwise keep thousands
    (gigabytes) until the end, and a full disk fails every later test."""
    if settings.database_url is None:
        return
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    admin = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database="postgres"
    )
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {url.database} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def env(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
) -> AsyncIterator[Env]:
    """The app over a fresh database, once on SQLite and once on PostgreSQL."""
    backend: str = request.param
    pg = request.getfixturevalue("postgres_template") if backend == "postgres" else None
    settings = await _fresh_settings(backend, tmp_path, sqlite_template, pg)
    clock = FakeClock()
    container = bootstrap(settings, clock=clock)
    app = create_app(container=container)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://lianbo.test") as client:
        yield Env(container, client, clock, backend)
    await container.close()
    await _drop_database(settings)
