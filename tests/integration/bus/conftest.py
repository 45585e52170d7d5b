"""Two processes' worth of lianbo on one PostgreSQL database: two
``bootstrap()`` containers, two apps, each with its own bus listener (and,
for socket tests, its own uvicorn)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from lianbo.adapters.bus.postgres import PostgresListener
from lianbo.api.app import create_app
from lianbo.api.serving import uvicorn_config
from lianbo.bootstrap import Container, bootstrap
from lianbo.config import Settings
from tests.conftest import _fresh_settings
from tests.support.clock import FakeClock
from tests.support.env import Env
from tests.support.services import free_port
from tests.support.waiting import until


@dataclass
class Pair:
    """Process A and process B of one system."""

    a: Env
    b: Env


def listener(container: Container) -> PostgresListener:
    found = container.bus.listener
    assert isinstance(found, PostgresListener)
    return found


async def _process(settings: Settings, clock: FakeClock) -> tuple[Env, httpx.AsyncClient]:
    container = bootstrap(settings, clock=clock)
    app = create_app(container=container)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    client = httpx.AsyncClient(transport=transport, base_url="http://lianbo.test")
    await container.bus.start()  # what the app's lifespan does
    return Env(container, client, clock, "postgres"), client


@pytest.fixture
async def pair(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[Pair]:
    """A and B on one fresh PostgreSQL database, both listening."""
    pg = request.getfixturevalue("postgres_template")
    settings = await _fresh_settings("postgres", tmp_path, sqlite_template, pg)
    clock = FakeClock()
    a, client_a = await _process(settings, clock)
    b, client_b = await _process(settings.model_copy(), clock)
    assert a.container.process_id != b.container.process_id
    await until(lambda: a.container.bus.connected and b.container.bus.connected, "both listen")
    yield Pair(a, b)
    for env, client in ((a, client_a), (b, client_b)):
        await env.container.bus.stop()
        await client.aclose()
        await env.container.close()


@dataclass
class ServedPair:
    """A and B each behind a real uvicorn (WebSockets), on the built-in hub."""

    pair: Pair
    ports: tuple[int, int]

    def ws_url(self, which: str) -> str:
        port = self.ports[0] if which == "a" else self.ports[1]
        return f"ws://127.0.0.1:{port}/terminal/v1/ws"


@pytest.fixture
async def served_pair(pair: Pair) -> AsyncIterator[ServedPair]:
    servers, tasks, ports = [], [], []
    for env in (pair.a, pair.b):
        port = free_port()
        app = create_app(container=env.container)
        config = uvicorn_config(
            app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"
        )
        server = uvicorn.Server(config)
        tasks.append(asyncio.create_task(server.serve()))
        servers.append(server)
        ports.append(port)
        await env.container.fleet.start()
    await until(lambda: all(s.started for s in servers), "both servers up")
    yield ServedPair(pair, (ports[0], ports[1]))
    for env, server in zip((pair.a, pair.b), servers, strict=True):
        await env.container.fleet.stop()
        server.should_exit = True
    await asyncio.gather(*tasks)
