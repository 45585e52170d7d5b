"""The agent in-process against a fake control centre: HTTP through
``httpx.MockTransport``, the push channel through a real local WebSocket."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.server import ServerConnection, serve

from lianbo.domain.manifest import version_of
from lianbo.player.agent import Agent, AgentConfig
from lianbo.player.headless import HeadlessBackend
from lianbo.player.identity import Identity
from lianbo.protocol.messages import Message, command, manifest_changed, time_reply
from tests.unit.test_protocol_manifest import Signer, manifest_body

A, B = b"first picture" * 100, b"second picture" * 100
SHA_A, SHA_B = hashlib.sha256(A).hexdigest(), hashlib.sha256(B).hexdigest()


def plan(*items: tuple[str, str, bytes]) -> dict[str, Any]:
    now = datetime.now(UTC)
    body = manifest_body(
        start=now.replace(minute=0, second=0, microsecond=0),
        origin=now.replace(second=0, microsecond=0),
        items=tuple((asset, hashlib.sha256(data).hexdigest(), 1000) for asset, _, data in items),
    )
    for file, (_, url, data) in zip(body["files"], items, strict=True):
        file["size"], file["url"] = len(data), url
    body["version"] = version_of(body)
    return body


class Centre:
    """A fake control centre; ``down`` makes every request fail to connect."""

    def __init__(self, signer: Signer) -> None:
        self.signer = signer
        self.media = {SHA_A: A, SHA_B: B}
        self.publish(plan(("a", f"http://cdn.example/media/{SHA_A}", A)))
        self.down = False
        self.seen: list[tuple[str, str | None]] = []

    def publish(self, body: dict[str, Any]) -> None:
        self.version = body["version"]
        self.envelope = self.signer.envelope(body, datetime.now(UTC))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.seen.append((path, request.headers.get("if-none-match")))
        if self.down:
            raise httpx.ConnectError("connection refused")
        if path.startswith("/media/"):
            return httpx.Response(200, content=self.media[path.removeprefix("/media/")])
        if request.headers.get("authorization") != "Bearer tok":
            return httpx.Response(401)
        if path == "/terminal/v1/heartbeat":
            reply = {"server_time": datetime.now(UTC).isoformat(), "heartbeat_seconds": 1}
            return httpx.Response(200, json=reply)
        if path == "/terminal/v1/manifest":
            etag = f'"{self.version}"'
            if etag in request.headers.get("if-none-match", ""):
                return httpx.Response(304, headers={"ETag": etag})
            return httpx.Response(200, text=self.envelope, headers={"ETag": etag})
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "no"}})

    def count(self, path: str) -> int:
        return sum(1 for seen, _ in self.seen if seen == path)


class Hub:
    """A push hub on a local port: records what terminals send."""

    def __init__(self) -> None:
        self.connections: list[ServerConnection] = []
        self.received: list[dict[str, Any]] = []

    async def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        if ws.request.headers.get("Authorization") != "Bearer tok":
            await ws.close(4401)
            return
        self.connections.append(ws)
        await ws.send(Message("hello", {"terminal_id": "t", "server_time": 0.0}).encode())
        async for raw in ws:
            message = json.loads(raw)
            self.received.append(message)
            if message["type"] == "time":
                await ws.send(time_reply(message["t0"], datetime.now(UTC).timestamp()).encode())

    def got(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m["type"] == kind]


async def until(condition: Callable[[], object], within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.fixture
async def hub() -> AsyncIterator[tuple[Hub, int]]:
    fake = Hub()
    async with serve(fake.handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield fake, port


def agent(tmp: Path, centre: Centre, port: int, **config: Any) -> Agent:
    identity = Identity(f"http://127.0.0.1:{port}", "t", "tok", centre.signer.keys)
    settings = AgentConfig(
        state_dir=tmp, poll_seconds=0.3, backoff_base=0.05, backoff_cap=0.2, **config
    )
    return Agent(
        identity,
        settings,
        HeadlessBackend(tmp / "headless.jsonl"),
        rng=random.Random(1),
        transport=httpx.MockTransport(centre),
    )


def shown(screen: Agent) -> list[str]:
    assert isinstance(screen.backend, HeadlessBackend)
    return [e["asset_id"] for e in screen.backend.events if e["event"] == "show"]


async def test_without_push_the_agent_polls_downloads_and_plays(tmp_path: Path) -> None:
    centre = Centre(Signer())
    screen = agent(tmp_path, centre, port=9)  # nothing listens: no push channel
    running = asyncio.create_task(screen.run())
    try:
        await until(lambda: "a" in shown(screen))
        assert (tmp_path / "media" / SHA_A).read_bytes() == A
        assert screen.status()["push"] == "polling"
        centre.publish(plan(("b", f"http://cdn.example/media/{SHA_B}", B)))
        await until(lambda: "b" in shown(screen), within=3)
        polls = [etag for path, etag in centre.seen if path == "/terminal/v1/manifest"]
        assert polls[0] is None and all(polls[1:])  # then always with If-None-Match
    finally:
        screen.stop()
        await running


async def test_a_push_message_brings_the_new_manifest_at_once(
    tmp_path: Path, hub: tuple[Hub, int]
) -> None:
    fake, port = hub
    centre = Centre(Signer())
    screen = agent(tmp_path, centre, port, push_poll_seconds=300)
    running = asyncio.create_task(screen.run())
    try:
        await until(lambda: fake.connections and "a" in shown(screen))
        await until(lambda: len(fake.got("time")) >= 3 and screen.clock.estimator.samples >= 3)
        assert screen.status()["push"] == "connected"
        fetched = centre.count("/terminal/v1/manifest")
        centre.publish(plan(("b", f"http://cdn.example/media/{SHA_B}", B)))
        await asyncio.sleep(1.0)  # no poll would come for five minutes
        assert centre.count("/terminal/v1/manifest") == fetched
        started = asyncio.get_running_loop().time()
        await fake.connections[-1].send(manifest_changed(centre.version).encode())
        await until(lambda: "b" in shown(screen), within=2)
        assert asyncio.get_running_loop().time() - started < 1.0
    finally:
        screen.stop()
        await running


async def test_commands_are_carried_out_and_acknowledged(
    tmp_path: Path, hub: tuple[Hub, int]
) -> None:
    fake, port = hub
    centre = Centre(Signer())
    screen = agent(tmp_path, centre, port, push_poll_seconds=300)
    running = asyncio.create_task(screen.run())
    try:
        await until(lambda: fake.connections and "a" in shown(screen))
        ws = fake.connections[-1]
        await ws.send(command("c1", "screenshot").encode())
        await until(lambda: centre.count("/terminal/v1/screenshot") == 1)
        await ws.send(command("c2", "reload").encode())
        await until(lambda: [m["id"] for m in fake.got("ack")] == ["c1", "c2"])
        await until(lambda: ("/terminal/v1/manifest", None) in centre.seen[2:])
        await ws.send(command("c3", "restart").encode())
        await until(lambda: len(fake.connections) == 2 and screen.restarts == 1)
        assert [m["id"] for m in fake.got("ack")] == ["c1", "c2", "c3"]
        assert fake.got("status")  # sent on every connect
    finally:
        screen.stop()
        await running


async def test_a_server_outage_does_not_stop_the_screen(tmp_path: Path) -> None:
    centre = Centre(Signer())
    screen = agent(tmp_path, centre, port=9)
    running = asyncio.create_task(screen.run())
    try:
        await until(lambda: "a" in shown(screen) and screen.heartbeats >= 1)
        centre.down = True
        await until(lambda: screen.http_link.up is False)
        before = len(shown(screen))
        await asyncio.sleep(3.2)  # one-second items keep changing
        assert len(shown(screen)) >= before + 2
        beats, fetches = screen.heartbeats, centre.count("/terminal/v1/manifest")
        centre.down = False
        await until(lambda: screen.heartbeats > beats and screen.http_link.up is True)
        await until(lambda: centre.count("/terminal/v1/manifest") > fetches)
    finally:
        screen.stop()
        await running
    # What was shown is proof of play, kept for a server that takes it later.
    assert screen.status()["playlog_pending"] >= 3
    assert (tmp_path / "playlog.jsonl").read_text().count(SHA_A) >= 3


async def test_a_file_with_the_wrong_sha256_is_never_shown(tmp_path: Path) -> None:
    centre = Centre(Signer())
    centre.media[SHA_A] = bytes(reversed(A))  # a hijacked CDN and origin: same size
    screen = agent(tmp_path, centre, port=9)
    running = asyncio.create_task(screen.run())
    try:
        await until(lambda: screen.status()["cache"]["failures"] == {SHA_A: "sha256 mismatch"})
        await asyncio.sleep(0.3)
        assert shown(screen) == []
        assert screen.status()["showing"] == {"blank": "not cached"}
    finally:
        screen.stop()
        await running


def test_status_has_the_well_known_keys(tmp_path: Path) -> None:
    from lianbo.protocol.reports import STATUS_KEYS

    status = agent(tmp_path, Centre(Signer()), port=9).status()
    assert set(STATUS_KEYS) <= set(status)
    assert status["manifest_version"] is None and status["rejected"] is None
