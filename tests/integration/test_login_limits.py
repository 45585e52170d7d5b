"""The login limit holds across processes: failures are counted in the store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import func, select

from lianbo.adapters.db.shared_tables import LoginFailureRow
from lianbo.api.app import create_app
from lianbo.bootstrap import bootstrap
from tests.support.env import PASSWORD, Env

pytestmark = pytest.mark.integration

TOKEN = "/api/v1/auth/token"


@asynccontextmanager
async def second_process(env: Env) -> AsyncIterator[httpx.AsyncClient]:
    """Another container and app on the same store and clock: a second process."""
    other = bootstrap(env.container.settings, clock=env.clock)
    app = create_app(container=other)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://b.test") as client:
            yield client
    finally:
        await other.close()


async def _try(client: httpx.AsyncClient, username: str, password: str) -> int:
    response = await client.post(TOKEN, json={"username": username, "password": password})
    return response.status_code


async def _failure_rows(env: Env) -> int:
    async with env.container.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(LoginFailureRow)) or 0)


async def test_two_processes_together_allow_only_the_limit(env: Env) -> None:
    user = await env.user()
    limit = env.container.settings.login_failures_per_minute
    async with second_process(env) as other:
        clients = [env.client, other]
        statuses = [
            await _try(clients[n % 2], user.username, "wrong-password") for n in range(limit)
        ]
        assert statuses == [401] * limit
        # Each process saw only half the failures; the store saw them all.
        assert await _try(other, user.username, PASSWORD) == 429
        assert await _try(env.client, user.username, PASSWORD) == 429


async def test_the_window_follows_the_clock_and_old_failures_are_pruned(env: Env) -> None:
    user = await env.user()
    limit = env.container.settings.login_failures_per_minute
    for _ in range(limit):
        assert await _try(env.client, user.username, "wrong-password") == 401
    limited = await env.client.post(TOKEN, json={"username": user.username, "password": PASSWORD})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) == 61
    env.clock.advance(seconds=30)
    retry = await env.client.post(TOKEN, json={"username": user.username, "password": PASSWORD})
    assert int(retry.headers["Retry-After"]) == 31
    env.clock.advance(seconds=31)
    assert await _try(env.client, "somebody-else", "wrong-password") == 401
    assert await _failure_rows(env) == 1  # the old window's rows went with that failure
    assert await _try(env.client, user.username, PASSWORD) == 200


async def test_a_good_login_forgets_its_failures(env: Env) -> None:
    user = await env.user()
    for _ in range(3):
        assert await _try(env.client, user.username, "wrong-password") == 401
    assert await _try(env.client, user.username, PASSWORD) == 200
    assert await _failure_rows(env) == 0


async def test_the_store_keeps_no_typed_username(env: Env) -> None:
    assert await _try(env.client, "my-secret-password", "x-wrong-x") == 401
    async with env.container.uow() as uow:
        keys = (await uow.session.scalars(select(LoginFailureRow.key))).all()
    assert len(keys) == 1 and "my-secret" not in keys[0] and len(keys[0]) == 64


async def test_the_check_is_one_seek_on_the_key_index(env: Env) -> None:
    query = select(func.count(), func.min(LoginFailureRow.failed_at)).where(
        LoginFailureRow.key == "k", LoginFailureRow.failed_at > env.clock.now()
    )
    async with env.container.uow() as uow:
        connection = await uow.session.connection()
        explain = "EXPLAIN QUERY PLAN" if env.backend == "sqlite" else "EXPLAIN"
        if env.backend == "postgres":  # an empty table is scanned; ask what it would use
            await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        compiled = query.compile(connection)
        params = (compiled.params["key_1"], compiled.params["failed_at_1"])
        plan = await connection.exec_driver_sql(f"{explain} {compiled}", params)
        details = " ".join(str(row[-1]) for row in plan)
    # PostgreSQL may pick either index on an empty table (the prune's on
    # failed_at too: the table only ever holds one window); never a scan.
    assert "ix_login_failures_" in details, details
    assert "SCAN login_failures" not in details and "Seq Scan" not in details, details
    if env.backend == "sqlite":
        assert "ix_login_failures_key_failed_at" in details, details
