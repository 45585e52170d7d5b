"""Manifest fetches for a worker's screens over a few keep-alive connections.

Each real screen would have its own connection; thousands of virtual ones
share a small pool so the server sees a realistic request stream without
the simulator holding a second socket per screen. Requests are raw
HTTP/1.1 (status line and headers parsed, body skipped by length).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lianbo.sim.screens import Screen

PATH = "/terminal/v1/manifest"


def _header(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None


class Fetcher:
    def __init__(self, host: str, port: int, connections: int) -> None:
        self.host = host
        self.port = port
        self.connections = connections
        self.queue: asyncio.Queue[Screen] = asyncio.Queue()
        self.tasks: list[asyncio.Task[None]] = []
        self.busy = 0

    def start(self) -> None:
        self.tasks = [asyncio.create_task(self._worker()) for _ in range(self.connections)]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def fetch(self, screen: Screen) -> None:
        self.queue.put_nowait(screen)

    def _request(self, screen: Screen) -> bytes:
        lines = [
            f"GET {PATH} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Authorization: Bearer {screen.credential.token}",
        ]
        if screen.etag:
            lines.append(f'If-None-Match: "{screen.etag}"')
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def _worker(self) -> None:
        streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while True:
            screen = await self.queue.get()
            self.busy += 1
            for _ in range(3):
                try:
                    if streams is None:
                        streams = await asyncio.open_connection(self.host, self.port)
                    status, etag, body, keep = await self._exchange(*streams, self._request(screen))
                except (
                    OSError,
                    asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError,
                    ValueError,
                ):
                    streams = self._drop(streams)
                    await asyncio.sleep(0.2)
                    continue
                if not keep:
                    streams = self._drop(streams)
                screen.fetched(status, etag, body)
                break
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
        return status, etag.strip(b'"').decode() if etag else None, body, keep

    @staticmethod
    def _drop(
        streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None,
    ) -> None:
        if streams is not None:
            with contextlib.suppress(Exception):
                streams[1].close()
        return None
