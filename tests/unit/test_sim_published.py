"""Simulated screens fetch a pushed manifest URL at once (ADR 0024): from
that URL, without a token, on a pool per host:port; anything but the pushed
version answered falls back to ``GET /terminal/v1/manifest``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from bench.harness.ports import free_port

from lianbo.sim.fetch import Call, Fetcher
from lianbo.sim.screens import Screen
from lianbo.sim.worker import Fleet, WorkerConfig
from tests.support.waiting import until
from tests.unit.test_sim_behind_proxy import CREDENTIAL, _screen

VERSION = "b" * 64
PATH = f"/manifests/{'a' * 32}/{VERSION}"


@dataclass
class Edge:
    """A one-route HTTP server: ``status`` for every request, ETag the version."""

    port: int = 0
    status: int = 200
    requests: list[bytes] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            self.requests.append(head)
            body = b"{}" if self.status == 200 else b'{"error":{"code":"not_found"}}'
            writer.write(
                f'HTTP/1.1 {self.status} X\r\nETag: "{VERSION}"\r\n'.encode()
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        writer.close()


@pytest.fixture
async def edge() -> AsyncIterator[Edge]:
    found = Edge()
    server = await asyncio.start_server(found.handle, "127.0.0.1", 0)
    found.port = server.sockets[0].getsockname()[1]
    async with server:
        yield found


def fleet() -> tuple[Fleet, Screen]:
    config = WorkerConfig("hub", "127.0.0.1", 9, "127.0.0.1", 9, [CREDENTIAL], 0)
    made = Fleet(config)
    return made, made.screens[0]


def push(screen: Screen, **body: str) -> None:
    screen.on_message(json.dumps({"type": "manifest", "version": VERSION, **body}).encode())


async def test_a_pushed_url_is_fetched_at_once_without_a_token_and_applied(edge: Edge) -> None:
    made, screen = fleet()
    try:
        push(screen, url=f"http://127.0.0.1:{edge.port}{PATH}")
        await until(lambda: screen.applied_version == VERSION)
        (request,) = edge.requests
        assert request.startswith(f"GET {PATH} HTTP/1.1\r\n".encode())
        assert b"authorization" not in request.lower() and b"?" not in request
        assert made.fetcher.queue.empty()  # the API was not asked
        assert made.counts["published_200"] == 1 and list(made.pools) == [
            ("127.0.0.1", edge.port, False)
        ]
        push(screen, url=f"http://127.0.0.1:{edge.port}{PATH}")  # has it: nothing asked
        assert len(edge.requests) == 1
    finally:
        await made.stop()


async def test_a_refused_url_falls_back_to_the_authenticated_fetch(edge: Edge) -> None:
    made, screen = fleet()
    edge.status = 404
    try:
        push(screen, url=f"http://127.0.0.1:{edge.port}{PATH}")
        await until(lambda: made.fetcher.queue.qsize() == 1)
        assert screen.applied_version == "" and made.counts["published_404"] == 1
        _, _, call = made.fetcher.queue.get_nowait()
        assert call.path == "/terminal/v1/manifest" and call.token
    finally:
        await made.stop()


async def test_an_unreachable_url_falls_back_to_the_authenticated_fetch() -> None:
    made, screen = fleet()
    try:
        push(screen, url=f"http://127.0.0.1:{free_port()}{PATH}")  # nothing listens there
        await until(lambda: made.fetcher.queue.qsize() == 1)
        assert screen.applied_version == "" and made.counts["published_0"] == 1
        _, _, call = made.fetcher.queue.get_nowait()
        assert call.path == "/terminal/v1/manifest" and call.token
    finally:
        await made.stop()


def test_without_a_url_the_api_is_asked() -> None:
    screen, fake = _screen()
    fetched: list[Screen] = []
    fake.fetcher.fetch = fetched.append  # type: ignore[attr-defined]
    push(screen)
    assert fetched == [screen]


def test_a_published_call_names_neither_token_nor_terminal() -> None:
    screen, _ = _screen()
    request = Fetcher("edge", 8080, 1)._request(
        Call(screen, "GET", PATH, screen.published_fetched, token=False)
    )
    assert request == f"GET {PATH} HTTP/1.1\r\nHost: edge:8080\r\n\r\n".encode()
