"""A worker's screens' HTTP calls over a few keep-alive connections.

Each real screen would have its own connection; thousands of virtual ones
share a small pool so the server sees a realistic request stream without
the simulator holding a second socket per screen. Requests are raw
HTTP/1.1 (status line and headers parsed, body read by length), each with
``?terminal=<id>`` as the player sends it (a load balancer keeps a screen
to one process by it), over TLS when the fleet has a TLS context: manifest
fetches and, for fleets that answer alerts, the alert list and acks.

A pushed manifest URL (``/manifests/<audience>/<version>``, ADR 0024) is
fetched as a player does: no token, no ``?terminal=``, so an edge caches one
answer for all; each worker keeps one pool per host:port it is sent to.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lianbo.sim.screens import Screen

PATH = "/terminal/v1/manifest"
ALERTS_PATH = "/terminal/v1/alerts"
ALERTS, MANIFEST, ACK = 0, 1, 2  # priorities: lower goes first

Answered = Callable[[int, "str | None", bytes], None]  # status, etag, body


@dataclass(frozen=True, slots=True)
class Call:
    """One request of one screen, and what to do with the answer."""

    screen: Screen
    method: str
    path: str
    answered: Answered
    body: bytes = b""
    token: bool = True  # a terminal's call; False: a published document, for anyone


def _header(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None


class Fetcher:
    def __init__(
        self, host: str, port: int, connections: int, tls: ssl.SSLContext | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.connections = connections
        self.tls = tls
        # What a screen must show comes first: a real screen asks on its own
        # connection, so its alert list never queues behind other screens' acks.
        self.queue: asyncio.PriorityQueue[tuple[int, int, Call]] = asyncio.PriorityQueue()
        self._order = itertools.count()
        self.tasks: list[asyncio.Task[None]] = []
        self.busy = 0

    def start(self) -> None:
        self.tasks = [asyncio.create_task(self._worker()) for _ in range(self.connections)]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def fetch(self, screen: Screen) -> None:
        """The screen's manifest (conditional on the version it has)."""
        self._put(MANIFEST, Call(screen, "GET", PATH, screen.fetched))

    def published(self, screen: Screen, path: str) -> None:
        """A pushed manifest version from its URL's path (no token)."""
        self._put(MANIFEST, Call(screen, "GET", path, screen.published_fetched, token=False))

    def alerts(self, screen: Screen) -> None:
        """The alerts the screen must show now (asked on every (re)connect)."""
        self._put(ALERTS, Call(screen, "GET", ALERTS_PATH, screen.alerts_fetched))

    def ack(self, screen: Screen, alert_id: str, state: str, at: str) -> None:
        """An alert ack (``POST /terminal/v1/alerts/{id}/ack``)."""
        body = json.dumps({"state": state, "at": at}).encode()
        path = f"{ALERTS_PATH}/{alert_id}/ack"
        self._put(ACK, Call(screen, "POST", path, screen.acked, body))

    def _put(self, priority: int, call: Call) -> None:
        self.queue.put_nowait((priority, next(self._order), call))

    def _request(self, call: Call) -> bytes:
        screen = call.screen
        if not call.token:
            lines = [f"{call.method} {call.path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
            return ("\r\n".join(lines) + "\r\n\r\n").encode()
        lines = [
            f"{call.method} {call.path}?terminal={screen.credential.terminal_id} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Authorization: Bearer {screen.credential.token}",
        ]
        if call.path == PATH and screen.etag:
            lines.append(f'If-None-Match: "{screen.etag}"')
        if call.body:
            lines += ["Content-Type: application/json", f"Content-Length: {len(call.body)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + call.body

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.tls is None:
            return await asyncio.open_connection(self.host, self.port)
        return await asyncio.open_connection(
            self.host, self.port, ssl=self.tls, server_hostname=self.host
        )

    async def _worker(self) -> None:
        streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while True:
            _, _, call = await self.queue.get()
            self.busy += 1
            for _ in range(3):
                try:
                    if streams is None:
                        streams = await self._open()
                    status, etag, body, keep = await self._exchange(*streams, self._request(call))
                except (
                    OSError,
                    asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError,
                    ValueError,
                    ssl.SSLError,
                ):
                    streams = self._drop(streams)
                    await asyncio.sleep(0.2)
                    continue
                if not keep:
                    streams = self._drop(streams)
                call.answered(status, etag, body)
                break
            else:  # unreachable after every try: status 0, so the screen decides
                call.answered(0, None, b"")  # (a pushed URL's fetch falls back to the API)
            self.busy -= 1

    @staticmethod
    async def _exchange(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
    ) -> tuple[int, str | None, bytes, bool]:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = _header(head, b"content-length")
        body = await reader.readexactly(int(length)) if length and status != 304 else b""
        etag = _header(head, b"etag")
        keep = (_header(head, b"connection") or b"").lower() != b"close"
        keep = keep and (length is not None or status in (204, 304))  # else: body unread
        return status, etag.strip(b'"').decode() if etag else None, body, keep

    @staticmethod
    def _drop(
        streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None,
    ) -> None:
        if streams is not None:
            with contextlib.suppress(Exception):
                streams[1].close()
        return None
