"""Two processes, one PostgreSQL database, two requests with one
``Idempotency-Key`` at once (ADR 0015): exactly one alert.

Deterministic: request A keeps its key (uncommitted) and holds there until
request B is seen waiting on PostgreSQL's lock for that key (or has
answered), then commits.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from lianbo.adapters.db.repos.idempotency import IdempotencyRepository
from lianbo.api.app import create_app
from lianbo.bootstrap import Container, bootstrap
from tests.integration.alerts.support import alert_body, at_sample_day, issuer
from tests.integration.alerts.test_alert_idempotency import ALERTS, chengdu_screen, counts, key
from tests.support.env import Env
from tests.support.waiting import until

pytestmark = [pytest.mark.integration, pytest.mark.postgres]
on_postgres = pytest.mark.parametrize("env", ["postgres"], indirect=True)

_WAITING = text(
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


@dataclass
class Process:
    container: Container
    client: httpx.AsyncClient


@pytest.fixture
async def process_b(env: Env) -> AsyncIterator[Process]:
    """Another container and app on the same database and clock: process B."""
    other = bootstrap(env.container.settings.model_copy(), clock=env.clock)
    transport = httpx.ASGITransport(app=create_app(container=other), client=("203.0.113.8", 1))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://b.test") as client:
            yield Process(other, client)
    finally:
        await other.close()


def hold_first_key(monkeypatch: pytest.MonkeyPatch, release: Callable[[], Any]) -> asyncio.Event:
    """The first request to keep a key holds it, uncommitted, until
    ``release()`` (awaited) returns; the event is set once it holds it."""
    add = IdempotencyRepository.add
    held = asyncio.Event()

    async def holding(self: IdempotencyRepository, *args: Any) -> None:
        await add(self, *args)
        if not held.is_set():
            held.set()
            await release()

    monkeypatch.setattr(IdempotencyRepository, "add", holding)
    return held


async def locks_waited(env: Env) -> bool:
    async with env.container.engine.connect() as connection:
        return int((await connection.execute(_WAITING)).scalar_one()) > 0


@on_postgres
async def test_two_processes_one_key_at_once_issue_one_alert(
    env: Env, process_b: Process, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_sample_day(env)
    process_b.container.settings.idempotency_wait_seconds = 60  # B waits, never gives up
    await chengdu_screen(env)
    headers = await issuer(env) | key("race")

    async def b_waits() -> None:
        await until(lambda: locks_waited(env), "B waits on A's key")

    held = hold_first_key(monkeypatch, b_waits)
    a = asyncio.create_task(env.client.post(ALERTS, json=alert_body(), headers=headers))
    await held.wait()
    b = asyncio.create_task(process_b.client.post(ALERTS, json=alert_body(), headers=headers))
    first, second = await asyncio.gather(a, b)
    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert second.headers["Idempotency-Replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    assert await counts(env) == (1, 1, 1, 1)


@on_postgres
async def test_a_retry_while_the_first_still_runs_is_told_to_wait(
    env: Env, process_b: Process, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_sample_day(env)
    process_b.container.settings.idempotency_wait_seconds = 0.2  # B gives up at once
    headers = await issuer(env) | key("slow")
    b_answered = asyncio.Event()
    held = hold_first_key(monkeypatch, b_answered.wait)
    a = asyncio.create_task(env.client.post(ALERTS, json=alert_body(), headers=headers))
    await held.wait()
    early = await process_b.client.post(ALERTS, json=alert_body(), headers=headers)
    b_answered.set()
    first = await a
    assert early.status_code == 409, early.text
    assert early.json()["error"]["code"] == "idempotency_key_in_progress"
    assert first.status_code == 201, first.text
    later = await process_b.client.post(ALERTS, json=alert_body(), headers=headers)
    assert later.status_code == 201 and later.headers["Idempotency-Replayed"] == "true"
    assert later.json()["id"] == first.json()["id"]
    assert await counts(env) == (1, 0, 1, 1)
