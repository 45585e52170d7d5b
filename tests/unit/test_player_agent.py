"""The agent in-process against a fake control centre: HTTP through
``httpx.MockTransport``, the push channel through a real local WebSocket."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.server import ServerConnection, serve

from lianbo.domain.manifest import version_of
from lianbo.player import identity as identity_store
from lianbo.player.agent import Agent, AgentConfig
from lianbo.player.headless import HeadlessBackend
from lianbo.player.heartbeat import BeatConfig
from lianbo.player.identity import Identity
from lianbo.protocol.messages import Message, command, manifest_changed, time_reply
from tests.support.waiting import HANG_GUARD_S, until
from tests.unit.test_protocol_manifest import AUDIENCE, Signer, manifest_body

A, B = b"first picture" * 100, b"second picture" * 100
SHA_A, SHA_B = hashlib.sha256(A).hexdigest(), hashlib.sha256(B).hexdigest()


def plan(*items: tuple[str, str, bytes], audience: dict[str, Any] = AUDIENCE) -> dict[str, Any]:
    now = datetime.now(UTC)
    body = manifest_body(
        start=now.replace(minute=0, second=0, microsecond=0),
        origin=now.replace(second=0, microsecond=0),
        items=tuple((asset, hashlib.sha256(data).hexdigest(), 1000) for asset, _, data in items),
        audience=audience,
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
        self.audience: dict[str, Any] | None = None  # in heartbeat replies when set
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
            if self.audience is not None:
                reply["audience"] = self.audience
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
    """A push hub on a local port: records what terminals send and answers
    ``status`` (a heartbeat) as ``beats`` says: "answer", "refuse" or "silent";
    ``alert-ack`` as stored (into ``ack_log``) unless ``acks_silent``."""

    def __init__(self) -> None:
        self.connections: list[ServerConnection] = []
        self.received: list[dict[str, Any]] = []
        self.beats = "answer"
        self.retry_after = 3
        self.at: list[float] = []  # when each message arrived (loop time)
        self.ack_log: list[tuple[str, dict[str, Any]]] = []  # alert acks: (alert id, body)
        self.acks_silent = False
        self.listing: dict[str, Any] | None = None  # an ``alerts`` message after the hello

    async def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        if ws.request.headers.get("Authorization") != "Bearer tok":
            await ws.close(4401)
            return
        self.connections.append(ws)
        hello = {"terminal_id": "t", "server_time": 0.0}
        if self.listing is not None:
            hello["alerts_follow"] = True
        await ws.send(Message("hello", hello).encode())
        if self.listing is not None:
            await ws.send(Message("alerts", self.listing).encode())
        async for raw in ws:
            message = json.loads(raw)
            self.received.append(message)
            self.at.append(asyncio.get_running_loop().time())
            if message["type"] == "time":
                await ws.send(time_reply(message["t0"], datetime.now(UTC).timestamp()).encode())
            elif message["type"] == "status" and self.beats != "silent":
                await ws.send(self.beat_reply().encode())
            elif message["type"] == "alert-ack" and not self.acks_silent:
                self.ack_log.append((message["alert_id"], message))
                answer = {k: message[k] for k in ("ref", "alert_id", "state")}
                await ws.send(Message("alert-ack", {**answer, "changed": True}).encode())

    def beat_reply(self) -> Message:
        if self.beats == "refuse":
            body: dict[str, Any] = {"refused": "too many", "retry_after": self.retry_after}
            return Message("heartbeat", body)
        body = {"server_time": datetime.now(UTC).timestamp(), "heartbeat_seconds": 1}
        return Message("heartbeat", body)

    def got(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m["type"] == kind]

    def arrivals(self, kind: str) -> list[float]:
        """When each message of ``kind`` arrived (loop time)."""
        return [at for m, at in zip(self.received, self.at, strict=True) if m["type"] == kind]


@pytest.fixture
async def hub() -> AsyncIterator[tuple[Hub, int]]:
    fake = Hub()
    async with serve(fake.handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield fake, port


def agent(
    tmp: Path, centre: Centre, port: int, audience: dict[str, Any] | None = None, **config: Any
) -> Agent:
    identity = Identity(f"http://127.0.0.1:{port}", "t", "tok", centre.signer.keys, audience)
    config.setdefault("ack_spread_seconds", 0.0)  # each alert state reported, none merged
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
        await until(lambda: "b" in shown(screen))
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
        await fake.connections[-1].send(manifest_changed(centre.version).encode())
        await until(lambda: "b" in shown(screen))
        # One fetch, the pushed one: the next poll is five minutes away.
        assert centre.count("/terminal/v1/manifest") == fetched + 1
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
        await until(lambda: len(shown(screen)) >= before + 2)  # one-second items keep changing
        assert centre.down and screen.http_link.up is False  # all while the server was away
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
        beats = screen.heartbeats
        await until(lambda: screen.heartbeats > beats)  # a round later (one a second)
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


# -- heartbeats: over the socket while it is up, HTTP otherwise ----------------


# A socket reply is never "late" in the tests that follow the socket path: on a
# loaded machine one could be, and the agent would rightly turn to HTTP for a
# while (that rule has its own test below, with a short deadline).
PATIENT = BeatConfig(reply_seconds=HANG_GUARD_S)


def http_beats(centre: Centre) -> int:
    return centre.count("/terminal/v1/heartbeat")


async def test_heartbeats_go_over_the_socket_while_it_is_up(
    tmp_path: Path, hub: tuple[Hub, int]
) -> None:
    fake, port = hub
    centre = Centre(Signer())
    screen = agent(tmp_path, centre, port, push_poll_seconds=300, beats=PATIENT)
    running = asyncio.create_task(screen.run())
    try:
        await until(lambda: fake.connections and "a" in shown(screen))
        await until(lambda: len(fake.got("status")) >= 2)
        beats, statuses = screen.heartbeats, len(fake.got("status"))
        assert http_beats(centre) == 1  # the first of a run: it asks for the audience
        # The server wants one a second: two more go up the socket, not over HTTP.
        await until(lambda: len(fake.got("status")) >= statuses + 2)
        await until(lambda: screen.heartbeats >= beats + 2)  # each reply counted
        assert http_beats(centre) == 1
        assert set(fake.got("status")[-1]) >= {"type", "manifest_version", "showing", "push"}
    finally:
        screen.stop()
        await running


async def test_a_socket_that_does_not_answer_falls_back_to_http(
    tmp_path: Path, hub: tuple[Hub, int]
) -> None:
    fake, port = hub
    fake.beats = "silent"  # an older server: status taken, never answered
    centre = Centre(Signer())
    screen = agent(tmp_path, centre, port, beats=BeatConfig(reply_seconds=0.3))
    running = asyncio.create_task(screen.run())
    try:
        await until(lambda: fake.connections and http_beats(centre) >= 1)
        await until(lambda: http_beats(centre) >= 3)
        assert screen.heartbeats == http_beats(centre)  # only HTTP replies came
        statuses, over_http = len(fake.got("status")), http_beats(centre)
        # HTTP only for a while: the next beats do not wait on the socket.
        await until(lambda: http_beats(centre) >= over_http + 2)
        assert len(fake.got("status")) == statuses
    finally:
        screen.stop()
        await running


async def test_a_refused_heartbeat_backs_off_for_retry_after(
    tmp_path: Path, hub: tuple[Hub, int]
) -> None:
    fake, port = hub
    fake.beats, fake.retry_after = "refuse", 3
    centre = Centre(Signer())
    screen = agent(tmp_path, centre, port, push_poll_seconds=300, beats=PATIENT)
    running = asyncio.create_task(screen.run())
    try:
        # The connect and new-manifest reports go up and are refused ...
        await until(lambda: "a" in shown(screen))
        await until(lambda: screen.beats.refused == len(fake.got("status")) >= 1)
        statuses, beats = len(fake.got("status")), screen.heartbeats
        refused_at = fake.arrivals("status")[-1]  # loop time: the agent's monotonic clock
        # ... and the next beat waits retry_after, not the second the server
        # asked for. Both are lower bounds on time: a slow machine only adds.
        assert screen.beats.due >= refused_at + fake.retry_after
        await until(lambda: len(fake.got("status")) > statuses)
        assert fake.arrivals("status")[statuses] - refused_at >= fake.retry_after - 1e-6
        assert http_beats(centre) == 1  # a refusal is not a reason to try HTTP
        assert screen.heartbeats == beats
    finally:
        screen.stop()
        await running


MOVED = {**AUDIENCE, "region": "510104"}
# even right after the start-up heartbeat
ASK_AT_ONCE = BeatConfig(refresh_after=0.0, reply_seconds=HANG_GUARD_S)


async def test_a_moved_screen_asks_its_audience_before_refusing_the_manifest(
    tmp_path: Path, hub: tuple[Hub, int]
) -> None:
    """The socket's replies carry no audience: a manifest for another audience
    makes the screen ask over HTTP at once, and take it when it is its own."""
    fake, port = hub
    centre = Centre(Signer())
    centre.audience = AUDIENCE
    screen = agent(tmp_path, centre, port, AUDIENCE, beats=ASK_AT_ONCE)
    running = asyncio.create_task(screen.run())
    try:
        await until(lambda: fake.connections and "a" in shown(screen))
        await until(lambda: len(fake.got("status")) >= 2)
        assert http_beats(centre) == 1
        # The operator moves the screen: its new audience's manifest is pushed.
        centre.audience = MOVED
        centre.publish(plan(("b", f"http://cdn.example/media/{SHA_B}", B), audience=MOVED))
        mark = len(centre.seen)
        await fake.connections[-1].send(manifest_changed(centre.version).encode())
        await until(lambda: "b" in shown(screen))
        asked = ("/terminal/v1/manifest", "/terminal/v1/heartbeat")
        paths = [path for path, _ in centre.seen[mark:] if path in asked]
        assert paths[:3] == [
            "/terminal/v1/manifest",  # refused: not the audience we know
            "/terminal/v1/heartbeat",  # so ask, over HTTP
            "/terminal/v1/manifest",  # ours after all
        ]
        assert screen.status()["rejected"] is None
        assert identity_store.load(tmp_path).audience == MOVED  # kept for restarts
    finally:
        screen.stop()
        await running


async def test_a_manifest_for_someone_else_is_still_refused(
    tmp_path: Path, hub: tuple[Hub, int]
) -> None:
    fake, port = hub
    centre = Centre(Signer())
    centre.audience = AUDIENCE
    screen = agent(tmp_path, centre, port, AUDIENCE, beats=ASK_AT_ONCE)
    running = asyncio.create_task(screen.run())
    try:
        await until(lambda: fake.connections and "a" in shown(screen))
        # Heartbeats go over the socket from now on: any HTTP one after this
        # is the screen asking (counted before that, a slow machine could
        # still have the first HTTP beat in flight).
        await until(lambda: len(fake.got("status")) >= 2)
        playing = screen.status()["manifest_version"]
        # A hijacked network hands out another audience's manifest; the
        # server still names ours.
        centre.publish(plan(("b", f"http://cdn.example/media/{SHA_B}", B), audience=MOVED))
        beats = http_beats(centre)
        await fake.connections[-1].send(manifest_changed(centre.version).encode())
        await until(lambda: screen.status()["rejected"] is not None)
        assert screen.status()["rejected"]["reason"] == "audience mismatch"
        assert http_beats(centre) == beats + 1  # asked once, then refused
        heard = screen.heartbeats
        await until(lambda: screen.heartbeats > heard)  # a heartbeat later (either way)
        assert screen.status()["manifest_version"] == playing
        assert "b" not in shown(screen)
    finally:
        screen.stop()
        await running
