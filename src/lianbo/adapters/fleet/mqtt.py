"""The fleet channel over any MQTT 3.1.1/5 broker (mosquitto, EMQX, VerneMQ).

lianbo is one client of the broker. It learns who is online from the
terminals' retained ``status`` topics (``offline`` is their will, so the
broker reports a dead screen for it) and from their ``up`` messages (so a
status lost in a burst heals at the next heartbeat), answers ``up``
messages, and publishes to terminal, region and audience topics (see
``topics``). A region message or a manifest change is one publish per
topic: the broker fans it out, whatever the number of screens.

With several server processes on one broker, each ``up`` message is
handled by exactly one of them: ``up`` is a shared subscription
(``$share/lianbo/lianbo/t/+/up``), so one process answers it and one
heartbeat is written. Presence (``status``) reaches every process, so each
knows who is online; only one of them (``reports_presence``, the leader)
writes what it sees to the store (ADR 0014).

The connection is kept by a background task that reconnects with backoff;
while the broker is away, pushes are dropped (screens fetch their manifest
when they reconnect anyway) and counted in the log.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import structlog

from lianbo.adapters.fleet import topics
from lianbo.adapters.fleet.alert_acks import AlertAcks
from lianbo.adapters.fleet.directory import Directory, refresh
from lianbo.adapters.fleet.inbox import Acks, Heartbeats, Inbox
from lianbo.adapters.fleet.mqtt_session import MqttError, MqttSession, open_session
from lianbo.adapters.fleet.presence import PresenceReporter, Seen
from lianbo.adapters.fleet.registry import Registry
from lianbo.domain.ports import Clock
from lianbo.domain.regions import normalise_code
from lianbo.protocol.messages import Message, manifest_changed

log = structlog.get_logger()

RETRY_MAX_S = 30.0
KEEPALIVE_S = 30
PUBLISH_BATCH = 2000


def _always() -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Broker:
    host: str
    port: int
    username: str | None = None
    password: str | None = None


class MqttFleet:
    def __init__(
        self,
        broker: Broker,
        directory: Directory,
        seen: Seen,
        clock: Clock,
        *,
        heartbeat_seconds: float = 30,
        heartbeats: Heartbeats | None = None,
        acks: Acks | None = None,
        alert_acks: AlertAcks | None = None,
        share_group: str = topics.SHARE_GROUP,
        reports_presence: Callable[[], bool] = _always,
    ) -> None:
        self._broker = broker
        self._subscriptions = topics.server_subscriptions(share_group)
        self._reports_presence = reports_presence
        self._directory = directory
        self._inbox = Inbox(clock, heartbeats, heartbeat_seconds, acks, alert_acks, self._reply)
        self._registry: Registry[str] = Registry()
        self._presence = PresenceReporter(
            self._seen_here(seen), self._registry.ids, heartbeat_seconds, clock
        )
        self._refresh_every = max(60.0, 2 * heartbeat_seconds)
        self._client: MqttSession | None = None
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

    async def _connection(self) -> None:
        delay = 1.0
        while True:
            try:
                await self._session()
            except MqttError as error:
                log.warning("MQTT broker unreachable", error=str(error), retry_in=delay)
            except Exception:
                log.exception("MQTT session failed", retry_in=delay)
            finally:
                delay = 1.0 if self._ready.is_set() else min(delay * 2, RETRY_MAX_S)
                self._client = None
                self._ready.clear()
            await asyncio.sleep(delay)

    async def _session(self) -> None:
        b = self._broker
        session = await open_session(
            b.host,
            b.port,
            self._handle,
            client_id=f"lianbo-server-{secrets.token_hex(6)}",
            username=b.username,
            password=b.password,
            keepalive_s=KEEPALIVE_S,
        )
        try:
            await session.subscribe(self._subscriptions)
            self._client = session
            self._ready.set()
            log.info("MQTT broker connected", host=b.host, port=b.port)
            await session.keep_alive(KEEPALIVE_S)
        finally:
            session.close()

    def _seen_here(self, seen: Seen) -> Seen:
        """Every process mirrors the broker's presence; one writes it."""

        async def report(terminals: list[tuple[str, datetime]]) -> None:
            if self._reports_presence():
                await seen(terminals)

        return report

    def _handle(self, topic: str, payload: bytes) -> None:
        parsed = topics.parse(topic)
        if parsed is None:
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

    async def _publish_many(self, items: list[tuple[str, str]]) -> int:
        """Write every message to the broker's socket; wait for the socket to
        take them in runs of ``PUBLISH_BATCH`` (a slow broker slows the sender,
        not the server's memory). How many were written."""
        sent = 0
        for start in range(0, len(items), PUBLISH_BATCH):
            session = self._client
            if session is None:
                break
            await session.writable()
            for topic, payload in items[start : start + PUBLISH_BATCH]:
                sent += session.publish(topic, payload.encode())
        if sent < len(items):
            log.info("MQTT pushes dropped", dropped=len(items) - sent, total=len(items))
        return sent

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

    async def manifest_changed(self, versions: Mapping[str, str]) -> int:
        """One publish per audience topic; the count is of publishes."""
        return await self._publish_many(
            [(topics.audience(k), manifest_changed(v).encode()) for k, v in versions.items()]
        )
