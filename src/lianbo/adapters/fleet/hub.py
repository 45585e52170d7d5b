"""The built-in WebSocket hub: screens connect to the server itself.

Transport-agnostic: the HTTP layer authenticates a socket through
``authenticate``, files it with ``join``, feeds what it reads to
``receive`` and calls ``leave`` when it closes. Fan-out encodes a frame
once and starts every send at the same time (a slow screen never holds
up the others: each send waits only for its own socket).
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable, Mapping
from typing import Protocol

import structlog

from lianbo.adapters.fleet.directory import Directory
from lianbo.adapters.fleet.inbox import Inbox, Status
from lianbo.adapters.fleet.presence import PresenceReporter, Seen
from lianbo.adapters.fleet.registry import Peer, Registry
from lianbo.domain.ports import Clock
from lianbo.domain.regions import normalise_code
from lianbo.protocol.messages import Message, manifest_changed

log = structlog.get_logger()

POLICY_VIOLATION = 1008  # bad or missing token
SUPERSEDED = 4001  # the same terminal connected again; do not fight over the slot


class Link(Protocol):
    """One connected socket."""

    async def send_text(self, text: str) -> None: ...

    async def close(self, code: int, reason: str = "") -> None: ...


class WebSocketHub:
    def __init__(
        self, directory: Directory, seen: Seen, clock: Clock, *, heartbeat_seconds: float = 30
    ) -> None:
        self._directory = directory
        self._inbox = Inbox(clock)
        self._registry: Registry[Link] = Registry()
        self._presence = PresenceReporter(seen, self._registry.ids, heartbeat_seconds)
        self._task: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()

    # lifecycle

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._presence.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    # the socket side

    async def authenticate(self, token: str | None) -> Peer | None:
        return await self._directory.by_token(token) if token else None

    def join(self, peer: Peer, link: Link) -> str:
        """File a connected socket; the ``hello`` frame to send it first."""
        previous = self._registry.add(peer, link)
        if previous is not None and previous is not link:
            task = asyncio.create_task(previous.close(SUPERSEDED, "replaced by a newer connection"))
            self._closing.add(task)
            task.add_done_callback(self._closed)
        self._presence.arrived(peer.terminal_id)
        log.debug("terminal connected", terminal_id=peer.terminal_id)
        body = {"terminal_id": peer.terminal_id, "server_time": self._inbox.now()}
        return Message("hello", body).encode()

    def _closed(self, task: asyncio.Task[None]) -> None:
        self._closing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("closing a superseded socket failed", error=str(task.exception()))

    def leave(self, peer: Peer, link: Link) -> None:
        if self._registry.remove(peer.terminal_id, link):
            log.debug("terminal disconnected", terminal_id=peer.terminal_id)

    def receive(self, peer: Peer, raw: str | bytes) -> str | None:
        """Handle one message from a screen; the reply frame, if any."""
        reply = self._inbox.receive(peer.terminal_id, raw)
        return reply.encode() if reply is not None else None

    # what the console reads

    def status(self, terminal_id: str) -> Status | None:
        return self._inbox.status(terminal_id)

    def connected(self) -> int:
        return len(self._registry)

    # FleetChannel

    def online(self) -> set[str]:
        return self._registry.ids()

    async def send(self, terminal_ids: Iterable[str], message: Message) -> int:
        return await self._deliver([(self._registry.links(terminal_ids), message.encode())])

    async def publish_region(self, region_code: str, message: Message) -> None:
        links = self._registry.within(normalise_code(region_code))
        await self._deliver([(links, message.encode())])

    async def manifest_changed(self, versions: Mapping[str, str]) -> int:
        return await self._deliver(
            [
                (self._registry.audience(key), manifest_changed(version).encode())
                for key, version in versions.items()
            ]
        )

    async def _deliver(self, batches: list[tuple[Collection[Link], str]]) -> int:
        sends = [link.send_text(frame) for links, frame in batches for link in links]
        if not sends:
            return 0
        results = await asyncio.gather(*sends, return_exceptions=True)
        failed = sum(1 for r in results if isinstance(r, BaseException))
        if failed:
            log.info("fleet push not delivered to some sockets", failed=failed, total=len(sends))
        return len(sends) - failed
