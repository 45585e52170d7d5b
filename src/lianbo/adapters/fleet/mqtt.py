"""The fleet channel over any MQTT 3.1.1/5 broker (mosquitto, EMQX, VerneMQ).

What lianbo does with the screens' topics is ``topic_fleet``'s; this is the
MQTT session. With several server processes on one broker, each ``up``
message is handled by exactly one of them: ``up`` is a shared subscription
(``$share/lianbo/lianbo/t/+/up``), so one process answers it and one
heartbeat is written (ADR 0014).

The connection is kept by a background task that reconnects with backoff;
while the broker is away, pushes are dropped (screens fetch their manifest
when they reconnect anyway) and counted in the log.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from lianbo.adapters.fleet import topics
from lianbo.adapters.fleet.alert_acks import AlertAcks
from lianbo.adapters.fleet.directory import Directory
from lianbo.adapters.fleet.inbox import Acks, Heartbeats
from lianbo.adapters.fleet.mqtt_session import MqttError, MqttSession, open_session
from lianbo.adapters.fleet.presence import Seen
from lianbo.adapters.fleet.topic_fleet import RETRY_MAX_S, TopicFleet, always
from lianbo.domain.ports import Clock

log = structlog.get_logger()

KEEPALIVE_S = 30
PUBLISH_BATCH = 2000


@dataclass(frozen=True, slots=True)
class Broker:
    host: str
    port: int
    username: str | None = None
    password: str | None = None


class MqttFleet(TopicFleet):
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
        reports_presence: Callable[[], bool] = always,
    ) -> None:
        super().__init__(
            directory,
            seen,
            clock,
            heartbeat_seconds=heartbeat_seconds,
            heartbeats=heartbeats,
            acks=acks,
            alert_acks=alert_acks,
            reports_presence=reports_presence,
        )
        self._broker = broker
        self._subscriptions = topics.server_subscriptions(share_group)
        self._client: MqttSession | None = None

    async def _connection(self) -> None:
        """Keep a session, retrying with backoff. A loss is logged once, when
        it happens (and the return once, by ``_session``), never per retry."""
        delay = 1.0
        quiet = False  # the loss is logged and no session came up since
        while True:
            try:
                await self._session()
            except MqttError as error:
                if self._ready.is_set() or not quiet:
                    log.warning("MQTT broker unreachable", error=str(error), retry_in=delay)
            except Exception:
                log.exception("MQTT session failed", retry_in=delay)
            finally:
                quiet = True
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
