"""The built-in WebSocket hub: screens connect to the server itself.

Transport-agnostic: the HTTP layer authenticates a socket through
``authenticate``, files it with ``join``, feeds what it reads to
``receive`` and calls ``leave`` when it closes. Fan-out encodes a frame
once and starts every send at the same time (a slow screen never holds
up the others: each send waits only for its own socket).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Coroutine, Iterable, Mapping
from typing import Any, Protocol

import structlog

from lianbo.adapters.fleet.alert_acks import AlertAcks
from lianbo.adapters.fleet.directory import Directory, refresh
from lianbo.adapters.fleet.figures import ACCEPTED, FAILED, REFUSED, FleetFigures
from lianbo.adapters.fleet.inbox import Acks, Heartbeats, Inbox
from lianbo.adapters.fleet.presence import PresenceReporter, Seen
from lianbo.adapters.fleet.registry import Peer, Registry
from lianbo.domain.ports import Clock
from lianbo.domain.regions import normalise_code
from lianbo.protocol.messages import Message, announcement

log = structlog.get_logger()

POLICY_VIOLATION = 1008  # bad or missing token
SUPERSEDED = 4001  # the same terminal connected again; do not fight over the slot
CHANGED = 4002  # an operator changed the terminal: reconnect to be filed afresh

FANOUT_HOLD_S = 2.0  # alert acks wait at most this long for a fan-out's sends

# What the ``alerts`` message after a screen's ``hello`` carries: its facts and
# the alerts it must show (``services.alert_greeting``); None when the store
# no longer knows it.
Greeting = Callable[[str], Awaitable[dict[str, Any] | None]]


class Link(Protocol):
    """One connected socket."""

    async def send_text(self, text: str) -> None: ...

    async def close(self, code: int, reason: str = "") -> None: ...


class WebSocketHub:
    def __init__(
        self,
        directory: Directory,
        seen: Seen,
        clock: Clock,
        *,
        heartbeat_seconds: float = 30,
        heartbeats: Heartbeats | None = None,
        acks: Acks | None = None,
        alert_acks: AlertAcks | None = None,
        greeting: Greeting | None = None,
    ) -> None:
        self._directory = directory
        self._greeting = greeting
        self._inbox = Inbox(clock, heartbeats, heartbeat_seconds, acks, alert_acks, self._reply)
        self._registry: Registry[Link] = Registry()
        self._presence = PresenceReporter(
            seen, self._registry.ids, heartbeat_seconds, clock, heard=self._heard
        )
        self._refresh_every = max(60.0, 2 * heartbeat_seconds)
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()
        self.logins: Counter[str] = Counter()  # sockets' tokens: accepted, refused, failed

    # lifecycle

    async def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._presence.run()),
                asyncio.create_task(self._keep_fresh()),
            ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.drain()
        await self._inbox.settle()

    async def drain(self) -> None:
        """Wait for pushes and closes still under way."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _keep_fresh(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_every)
            try:
                await self.refresh()
            except Exception:  # the store may be busy; next round
                log.exception("fleet refresh failed")

    async def refresh(self) -> int:
        """Re-file screens whose targeting facts changed since they connected;
        close those retired meanwhile. How many were closed."""
        gone = await refresh(self._registry, self._directory)
        for _, link in gone:
            self._later(link.close(POLICY_VIOLATION, "terminal retired"))
        return len(gone)

    # the socket side

    async def authenticate(self, token: str | None) -> Peer | None:
        """The screen a socket's token names; None (refused, counted) for a
        missing, unknown or revoked one. Raises when the store cannot say."""
        try:
            peer = await self._directory.by_token(token) if token else None
        except Exception:
            self.logins[FAILED] += 1
            raise
        self.logins[REFUSED if peer is None else ACCEPTED] += 1
        return peer

    def join(self, peer: Peer, link: Link) -> str:
        """File a connected socket; the ``hello`` frame to send it first."""
        previous = self._registry.add(peer, link)
        if previous is not None and previous is not link:
            self._later(previous.close(SUPERSEDED, "replaced by a newer connection"))
        self._presence.arrived(peer.terminal_id)
        log.debug("terminal connected", terminal_id=peer.terminal_id)
        body = {"terminal_id": peer.terminal_id, "server_time": self._inbox.now()}
        return Message("hello", body).encode()

    def greet(self, peer: Peer, link: Link) -> str:
        """``join``; the ``hello`` to send first, and the screen's alert list
        right after it (an ``alerts`` message: what ``GET /terminal/v1/alerts``
        would answer), so a reconnecting screen need not ask (one request
        less per screen when a process dies and its screens move). The
        ``hello`` says so (``alerts_follow``) and goes at once: the screen is
        back before the store was read.

        Filed before the alerts are read: an alert committed after the read
        is pushed to this socket (a screen takes an alert twice as once).
        When the store cannot answer, the ``alerts`` message lists nothing
        and the screen asks over HTTP."""
        hello = self.join(peer, link)
        if self._greeting is None:
            return hello
        self._later(self._list_alerts(peer, link))
        body = {"terminal_id": peer.terminal_id, "server_time": self._inbox.now()}
        return Message("hello", body | {"alerts_follow": True}).encode()

    async def _list_alerts(self, peer: Peer, link: Link) -> None:
        assert self._greeting is not None
        try:
            listed = await self._greeting(peer.terminal_id) or {}
        except Exception:  # the store is busy or lost: the screen asks over HTTP
            log.warning("fleet greeting without alerts", terminal_id=peer.terminal_id)
            listed = {}
        with contextlib.suppress(OSError, RuntimeError):  # gone: it lists them when back
            await link.send_text(Message("alerts", listed).encode())

    def _heard(self, terminal_id: str) -> float | None:
        """When the screen's socket last received anything (raw sockets keep
        ``heard``; ASGI links do not)."""
        heard = getattr(self._registry.link(terminal_id), "heard", None)
        return heard if isinstance(heard, float) else None

    def leave(self, peer: Peer, link: Link) -> None:
        if self._registry.remove(peer.terminal_id, link):
            log.debug("terminal disconnected", terminal_id=peer.terminal_id)

    def receive(self, peer: Peer, raw: str | bytes) -> str | None:
        """Handle one message from a screen; the reply frame, if any."""
        reply = self._inbox.receive(peer.terminal_id, raw)
        return reply.encode() if reply is not None else None

    def _reply(self, terminal_id: str, message: Message) -> None:
        """A late answer (an alert ack's, after its commit) to the screen's
        socket now; gone meanwhile, the screen sends the ack again."""
        self._deliver([(self._registry.links([terminal_id]), message.encode())])

    @property
    def inbox(self) -> Inbox:
        """What screens sent (its counts, for tests and the benchmark)."""
        return self._inbox

    def figures(self) -> FleetFigures:
        """For ``/metrics``: no broker; refusals and logins counted here."""
        return FleetFigures(None, self._inbox.refused, self.logins)

    # what the console reads

    def connected(self) -> int:
        return len(self._registry)

    # FleetChannel

    def online(self) -> set[str]:
        return self._registry.ids()

    async def send(self, terminal_ids: Iterable[str], message: Message) -> int:
        return self._deliver([(self._registry.links(terminal_ids), message.encode())])

    async def publish_region(self, region_code: str, message: Message) -> None:
        self._deliver([(self._registry.within(normalise_code(region_code)), message.encode())])

    async def manifest_changed(self, versions: Mapping[str, str], base: str | None = None) -> int:
        return self._deliver(
            [
                (self._registry.audience(key), announcement(key, version, base).encode())
                for key, version in versions.items()
            ]
        )

    async def drop(self, terminal_id: str, *, revoked: bool) -> bool:
        link = self._registry.link(terminal_id)
        if link is None:
            return False
        self._registry.remove(terminal_id, link)
        if revoked:
            self._later(link.close(POLICY_VIOLATION, "terminal token revoked"))
        else:
            self._later(link.close(CHANGED, "terminal changed; reconnect"))
        return True

    def _deliver(self, batches: list[tuple[Collection[Link], str]]) -> int:
        """Start every send now and return: the caller (a publish request)
        never waits for the slowest screen. How many sockets it started on.

        Links that can write at once (``write_text``: the raw-transport
        socket) are written in this loop; others get a send each. Alert acks
        that come in meanwhile wait until every send is done (or
        ``FANOUT_HOLD_S`` passed): the push has the loop and the store first
        (``ChannelAcks.hold``)."""
        held = self._inbox.alert_acks
        if held is not None:
            held.hold()
        sends: list[Coroutine[Any, Any, None]] = []
        written = failed = 0
        for links, frame in batches:
            for link in links:
                write = getattr(link, "write_text", None)
                if write is None:
                    sends.append(link.send_text(frame))
                    continue
                try:
                    write(frame)
                    written += 1
                except OSError:
                    failed += 1
        if failed:
            log.info("fleet push not delivered to some sockets", failed=failed, total=written)
        if sends:
            self._later(self._collect(sends))
        elif held is not None:
            held.release()
        return written + failed + len(sends)

    async def _collect(self, sends: list[Coroutine[Any, Any, None]]) -> None:
        together = asyncio.gather(*sends, return_exceptions=True)
        held = self._inbox.alert_acks
        if held is not None:
            try:  # a screen that does not read must not hold the acks up for long
                await asyncio.wait({together}, timeout=FANOUT_HOLD_S)
            finally:
                held.release()
        results = await together
        failed = sum(1 for r in results if isinstance(r, BaseException))
        if failed:
            log.info("fleet push not delivered to some sockets", failed=failed, total=len(sends))
