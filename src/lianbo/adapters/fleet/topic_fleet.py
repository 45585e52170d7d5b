"""What a fleet channel on a broker does whatever the broker (MQTT, NATS).

lianbo is one client of the broker. It learns who is online from the
terminals' retained ``status`` topics (``offline`` is their will, so the
broker reports a dead screen for it) and from their ``up`` messages (so a
status lost in a burst heals at the next heartbeat), answers ``up``
messages, and publishes to terminal, region and audience topics (see
``topics``). A region message or a manifest change is one publish per
topic: the broker fans it out, whatever the number of screens.

Presence (``status``) reaches every server process, so each knows who is
online; only one of them (``reports_presence``, the leader) writes what it
sees to the store (ADR 0014). Each ``up`` message is handled by one process
(how is the broker's: ``mqtt.py``, ``nats.py``).

A subclass keeps the connection (``_connection``, a task that reconnects
with backoff) and writes messages (``_publish_many``); topics stay in their
MQTT form here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

import structlog

from lianbo.adapters.fleet import topics
from lianbo.adapters.fleet.alert_acks import AlertAcks
from lianbo.adapters.fleet.directory import Directory, refresh
from lianbo.adapters.fleet.figures import FleetFigures
from lianbo.adapters.fleet.inbox import UNWANTED, Acks, Heartbeats, Inbox
from lianbo.adapters.fleet.presence import PresenceReporter, Seen
from lianbo.adapters.fleet.registry import Registry
from lianbo.domain.ports import Clock
from lianbo.domain.regions import normalise_code
from lianbo.protocol.messages import Message, announcement

log = structlog.get_logger()

RETRY_MAX_S = 30.0


def always() -> bool:
    """Report presence (one process, or every process reports)."""
    return True


class TopicFleet:
    """The ``FleetChannel`` over a broker's topics, less the broker's own part."""

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
        reports_presence: Callable[[], bool] = always,
    ) -> None:
        self._reports_presence = reports_presence
        self._directory = directory
        self._inbox = Inbox(clock, heartbeats, heartbeat_seconds, acks, alert_acks, self._reply)
        self._registry: Registry[str] = Registry()
        self._presence = PresenceReporter(
            self._seen_here(seen), self._registry.ids, heartbeat_seconds, clock
        )
        self._refresh_every = max(60.0, 2 * heartbeat_seconds)
        self._ready = asyncio.Event()
        self._arriving: set[str] = set()
        self._arrived = asyncio.Event()
        # Replies (heartbeat, time) are published by their own task: the
        # reader must not wait for a socket write per message it handles.
        self._replies: list[tuple[str, str]] = []
        self._replies_waiting = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # lifecycle

    async def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._connection()),
                asyncio.create_task(self._resolve_arrivals()),
                asyncio.create_task(self._presence.run()),
                asyncio.create_task(self._keep_fresh()),
                asyncio.create_task(self._send_replies()),
            ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self._inbox.settle()

    async def connected(self) -> None:
        """Wait until the broker connection is up (wrap in a timeout)."""
        await self._ready.wait()

    @property
    def ready(self) -> bool:
        """For ``/healthz``: the broker connection is up, or this process
        does not run the channel at all (``lianbo worker`` builds it and
        never starts it: nothing to lose)."""
        return not self._tasks or self._ready.is_set()

    async def _connection(self) -> None:
        """Keep the broker connection (the subclass's); set ``_ready`` while up."""
        raise NotImplementedError

    async def _publish_many(self, items: list[tuple[str, str]]) -> int:
        """Write (topic, payload) messages; how many were written."""
        raise NotImplementedError

    def _seen_here(self, seen: Seen) -> Seen:
        """Every process mirrors the broker's presence; one writes it."""

        async def report(terminals: list[tuple[str, datetime]]) -> None:
            if self._reports_presence():
                await seen(terminals)

        return report

    def _handle(self, topic: str, payload: bytes) -> None:
        """A message on a terminal's ``status`` or ``up`` topic (MQTT form)."""
        parsed = topics.parse(topic)
        if parsed is None:
            self._inbox.refuse(UNWANTED)
            return
        terminal_id, leaf = parsed
        if leaf == topics.STATUS:
            if payload == topics.ONLINE:
                self._arriving.add(terminal_id)
                self._arrived.set()
            else:
                self._arriving.discard(terminal_id)
                self._registry.remove(terminal_id)
        elif leaf == topics.UP:
            if terminal_id not in self._registry:
                self._arriving.add(terminal_id)  # its "online" was lost: it is here
                self._arrived.set()
            reply = self._inbox.receive(terminal_id, payload)
            if reply is not None:
                self._reply(terminal_id, reply)

    def _reply(self, terminal_id: str, message: Message) -> None:
        """Answer a screen on its own topic (from the replies task)."""
        self._replies.append((topics.terminal(terminal_id), message.encode()))
        self._replies_waiting.set()

    @property
    def inbox(self) -> Inbox:
        """What screens sent (its counts, for tests and the benchmark)."""
        return self._inbox

    def figures(self) -> FleetFigures:
        """For ``/metrics``: the broker connection (none where the channel
        is not run: ``lianbo worker``) and the messages refused here. Logins
        are the broker's own (mosquitto's password file)."""
        return FleetFigures(self.ready if self._tasks else None, self._inbox.refused, None)

    async def _send_replies(self) -> None:
        while True:
            await self._replies_waiting.wait()
            self._replies_waiting.clear()
            replies, self._replies = self._replies, []
            await self._publish_many(replies)

    async def _resolve_arrivals(self) -> None:
        """File terminals that came online (their audience and region from the
        store, in batches; unknown or retired ids are ignored)."""
        while True:
            await self._arrived.wait()
            self._arrived.clear()
            ids, self._arriving = self._arriving, set()
            try:
                peers = await self._directory.by_ids(ids)
            except Exception:
                log.exception("fleet look-up failed")
                self._arriving |= ids
                await asyncio.sleep(1)
                self._arrived.set()
                continue
            for terminal_id, peer in peers.items():
                self._registry.add(peer, terminal_id)
                self._presence.arrived(terminal_id)

    async def _keep_fresh(self) -> None:
        """Forget screens retired (or moved) since they came online."""
        while True:
            await asyncio.sleep(self._refresh_every)
            try:
                await refresh(self._registry, self._directory)
            except Exception:
                log.exception("fleet refresh failed")

    # FleetChannel

    def online(self) -> set[str]:
        return self._registry.ids()

    async def send(self, terminal_ids: Iterable[str], message: Message) -> int:
        payload = message.encode()
        return await self._publish_many([(topics.terminal(t), payload) for t in terminal_ids])

    async def publish_region(self, region_code: str, message: Message) -> None:
        await self._publish_many([(topics.region(normalise_code(region_code)), message.encode())])

    async def drop(self, terminal_id: str, *, revoked: bool) -> bool:
        """The broker holds the session; access ends with its password file
        or auth hook (``mosquitto.py``). The next refresh forgets it."""
        return False

    async def manifest_changed(self, versions: Mapping[str, str], base: str | None = None) -> int:
        """One publish per audience topic; the count is of publishes."""
        return await self._publish_many(
            [(topics.audience(k), announcement(k, v, base).encode()) for k, v in versions.items()]
        )
