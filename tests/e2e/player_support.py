"""What the player's end-to-end tests need: a server they can kill and
restart, a man in the middle that can turn hostile, an agent in a thread,
and quick set-up through the JSON API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from lianbo.domain.canonical import canonical_json
from lianbo.player.agent import Agent
from tests.e2e.content import headers, png, today_at
from tests.e2e.helpers import OPERATOR, REVIEWERS, Server
from tests.support.waiting import HANG_GUARD_S

T = TypeVar("T")
START_TIMEOUT = 120.0  # a loaded 2-core machine starts slowly


def lianbo() -> str:
    return str(Path(sys.executable).with_name("lianbo"))


def cli(*args: str, data_dir: Path) -> None:
    done = subprocess.run(
        [lianbo(), *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"lianbo {' '.join(args)} failed: {done.stderr}"


class ServerProcess:
    """``lianbo serve`` on a fixed port and data dir that a test can kill
    and start again (the same port, so screens find it where they left it)."""

    def __init__(self, data_dir: Path, port: int, log: Path, env: dict[str, str]) -> None:
        self.data_dir, self.port, self.log = data_dir, port, log
        self.env = {**os.environ, **env}
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def server(self) -> Server:
        return Server(self.url, self.data_dir)

    def start(self) -> None:
        command = [lianbo(), "serve", "--port", str(self.port), "--data-dir", str(self.data_dir)]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=self.env
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"lianbo serve exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"lianbo serve did not become healthy:\n{self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: a crash, not a polite shutdown."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


class Interceptor:
    """A man in the middle in front of the control centre: a transparent
    proxy until a test turns it hostile (a hijacked network or CDN).

    ``forge_manifest`` puts the attacker's sha256 in place of the first file's
    in the signed manifest; ``forge_media`` flips bytes of every media file it relays;
    ``resign`` (key id, signing function) re-signs every manifest with the
    attacker's own key and ``forge_keys`` is what ``/terminal/v1/keys`` answers.
    The push channel is not relayed (404), so screens behind it poll — unless
    ``relay_push``: then the WebSocket is tunnelled as bytes, its frames unread.
    ``relayed`` lists every request's path (HTTP and WebSocket upgrades).
    """

    def __init__(self, relay_push: bool = False) -> None:
        self.upstream = ""
        self.forge_manifest: str | None = None  # a sha256 to put in the first file's place
        self.forge_media = False
        self.resign: tuple[str, Callable[[bytes], str]] | None = None
        self.forge_keys: dict[str, Any] | None = None
        self.relay_push = relay_push
        self.relayed: list[str] = []
        interceptor = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # WebSocket clients accept no HTTP/1.0 answer

            def do_GET(self) -> None:
                interceptor.relay(self, "GET")

            def do_HEAD(self) -> None:
                interceptor.relay(self, "HEAD")

            def do_POST(self) -> None:
                interceptor.relay(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def relay(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        # Judged and listed by path; the query (the player's ?terminal=<id>)
        # goes upstream as sent.
        path = urlsplit(handler.path).path
        self.relayed.append(path)
        if path.startswith("/terminal/v1/ws"):
            if self.relay_push:
                return self._tunnel(handler)
            return self._answer(handler, 404, {}, b'{"error":{"message":"no push here"}}')
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else None
        passed = {
            k: v
            for k, v in handler.headers.items()
            if k.lower() not in ("host", "connection", "accept-encoding", "content-length")
        }
        try:
            with httpx.Client(timeout=HANG_GUARD_S) as client:
                reply = client.request(
                    method, self.upstream + handler.path, headers=passed, content=body
                )
        except httpx.TransportError:
            return self._answer(handler, 502, {}, b'{"error":{"message":"upstream down"}}')
        content = self._tamper(path, reply.status_code, reply.content)
        kept = {
            k: v
            for k, v in reply.headers.items()
            if k.lower()
            not in ("content-length", "transfer-encoding", "connection", "content-encoding")
        }
        self._answer(handler, reply.status_code, kept, content)

    def _tunnel(self, handler: BaseHTTPRequestHandler) -> None:
        """The upgrade request as received, then bytes both ways until one side closes."""
        url = httpx.URL(self.upstream)
        try:
            upstream = socket.create_connection((url.host, url.port or 80), timeout=HANG_GUARD_S)
        except OSError:
            return self._answer(handler, 502, {}, b'{"error":{"message":"upstream down"}}')
        lines = [f"{handler.command} {handler.path} {handler.request_version}"]
        lines += [f"{key}: {value}" for key, value in handler.headers.items()]
        upstream.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        handler.close_connection = True
        try:
            pump(handler.connection, upstream)
        finally:
            close_quietly(upstream)

    def _tamper(self, path: str, status: int, content: bytes) -> bytes:
        if path.startswith("/media/") and self.forge_media and status in (200, 206):
            return bytes(b ^ 0xFF for b in content[:64]) + content[64:]
        manifest = path == "/terminal/v1/manifest" or path.startswith("/manifests/")
        if manifest and self.forge_manifest and status == 200:
            forged = f'"sha256":"{self.forge_manifest}"'.encode()
            return re.sub(rb'"sha256":"[0-9a-f]{64}"', forged, content, count=1)
        if manifest and self.resign and status == 200:
            return _resigned(content, *self.resign)
        if path == "/terminal/v1/keys" and self.forge_keys is not None:
            return json.dumps(self.forge_keys).encode()
        return content

    @staticmethod
    def _answer(
        handler: BaseHTTPRequestHandler, status: int, kept: dict[str, str], content: bytes
    ) -> None:
        handler.send_response(status)
        for key, value in kept.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(content)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(content)


def _resigned(content: bytes, key_id: str, sign: Callable[[bytes], str]) -> bytes:
    """The envelope with its manifest's bytes signed by someone else's key."""
    envelope = json.loads(content)
    data = canonical_json(envelope["manifest"])  # the server embeds canonical JSON
    text = content.decode("utf-8").replace(envelope["signature"], sign(data))
    return text.replace(envelope["key_id"], key_id).encode("utf-8")


class AgentThread:
    """An agent running in its own thread and event loop, as on a screen."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self.agent.run())
        except BaseException as error:  # handed to the test thread in __exit__
            self.error = error

    def __enter__(self) -> AgentThread:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.agent.stop()
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "the agent did not stop"
        if self.error is not None:
            raise self.error

    def log(self) -> list[dict[str, Any]]:
        """The headless backend's JSON lines, as a screen-less rig reads them."""
        path = self.agent.config.state_dir / "headless.jsonl"
        events = []
        for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
            try:
                events.append(json.loads(line))
            except ValueError:
                continue  # the line being written
        return events

    def shows(self) -> list[dict[str, Any]]:
        return [e for e in self.log() if e["event"] == "show"]


def pump(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes between two sockets until either closes."""
    peers = {a: b, b: a}
    while True:
        try:
            ready, _, _ = select.select(list(peers), [], [], 1.0)
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                peers[sock].sendall(data)
        except (OSError, ValueError):
            return


def close_quietly(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def eventually(check: Callable[[], T], timeout: float = HANG_GUARD_S, every: float = 0.1) -> T:
    """Retry ``check`` until it returns something truthy without raising
    (``timeout`` is a hang guard, not a verdict on speed)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
            failure: BaseException | None = None
        except (AssertionError, RuntimeError, KeyError, TypeError) as error:
            failure = error  # RuntimeError: a dict read while the agent changed it
        if time.monotonic() > deadline:
            if failure is not None:
                raise failure
            raise AssertionError("not true in time")
        time.sleep(every)


# -- set-up through the JSON API --------------------------------------------


def approved_image(server: Server, name: str) -> dict[str, Any]:
    """An uploaded PNG taken through the three review levels."""
    with server.client(headers=headers(server, OPERATOR)) as api:
        made = api.post("/api/v1/assets", files={"file": (name, png(), "image/png")})
        assert made.status_code == 201, made.text
        asset: dict[str, Any] = made.json()
        submitted = api.post(f"/api/v1/assets/{asset['id']}/submit")
        assert submitted.status_code == 200, submitted.text
    for reviewer in REVIEWERS:
        with server.client(headers=headers(server, reviewer)) as api:
            passed = api.post(f"/api/v1/assets/{asset['id']}/review", json={"decision": "approve"})
        assert passed.status_code == 200, passed.text
    return asset


def playlist(server: Server, name: str, asset_ids: list[str], duration_ms: int) -> str:
    items = [{"asset_id": a, "duration_ms": duration_ms} for a in asset_ids]
    with server.client(headers=headers(server, OPERATOR)) as api:
        made = api.post("/api/v1/playlists", json={"name": name, "items": items})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def terminal(server: Server, name: str, tier: str) -> dict[str, Any]:
    body = {"name": name, "tier": tier, "region": "510107", "latitude": 30.64, "longitude": 104.04}
    with server.client(headers=headers(server, OPERATOR)) as api:
        made = api.post("/api/v1/terminals", json=body)
    assert made.status_code == 201, made.text
    created: dict[str, Any] = made.json()
    return created


def schedule(server: Server, name: str, playlist_id: str, tier: str, *, sync: bool) -> str:
    """Published, today 00:00 (Beijing) for three days, for ``tier`` screens in 510107."""
    body = {
        "name": name,
        "playlist_id": playlist_id,
        "targets": {"regions": ["510107"], "tiers": [tier]},
        "starts_at": today_at(0).isoformat(),
        "ends_at": today_at(0, days=3).isoformat(),
        "priority": "public",
        "sync": sync,
    }
    with server.client(headers=headers(server, OPERATOR)) as api:
        made = api.post("/api/v1/schedules", json=body)
        assert made.status_code == 201, made.text
        schedule_id = str(made.json()["id"])
        published = api.post(f"/api/v1/schedules/{schedule_id}/publish")
    assert published.status_code == 200, published.text
    return schedule_id


def unpublish(server: Server, schedule_id: str) -> None:
    with server.client(headers=headers(server, OPERATOR)) as api:
        done = api.post(f"/api/v1/schedules/{schedule_id}/unpublish")
    assert done.status_code == 200, done.text


def anchor() -> datetime:
    """Where the simulcast schedules made by ``schedule`` count from."""
    return today_at(0)
