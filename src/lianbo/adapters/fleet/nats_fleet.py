"""The fleet channel on a NATS cluster whose MQTT listeners the screens use (ADR 0018).

Screens are MQTT clients of any node; lianbo is a NATS client of the
cluster (``nats_urls``: it reconnects to another node by itself). An MQTT
topic is a NATS subject with ``/`` → ``.``, so a NATS publish on
``lianbo.r.51.push`` reaches every MQTT screen of region 51 on every node.

- ``up``: a NATS queue group (``share_group``): NATS has no MQTT
  ``$share``, and the group gives each message to one process.
- presence: every process subscribes to ``lianbo.t.*.status`` (live
  ``online``, ``offline`` and wills) and, on each (re)connect, reads the
  retained snapshot, which only MQTT serves, through one short MQTT session
  (``mqtt_session``) as lianbo's own user.
- ``drop``: ends the screen's broker session on whichever node holds it
  (``$SYS.REQ.SERVER.PING.CONNZ`` by MQTT client id, then that node's
  ``KICK``); the callout (``nats_auth``) refuses its next login once the
  store says it is retired or its token changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import Callable

import nats.errors
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg

from lianbo.adapters.fleet import topics
from lianbo.adapters.fleet.alert_acks import AlertAcks
from lianbo.adapters.fleet.directory import Directory
from lianbo.adapters.fleet.figures import FleetFigures
from lianbo.adapters.fleet.inbox import Acks, Heartbeats
from lianbo.adapters.fleet.mqtt import Broker
from lianbo.adapters.fleet.mqtt_session import MqttError, open_session
from lianbo.adapters.fleet.nats_auth import AuthCallout, Login, connect, keep_answering
from lianbo.adapters.fleet.nats_jwt import subject
from lianbo.adapters.fleet.presence import Seen
from lianbo.adapters.fleet.topic_fleet import RETRY_MAX_S, TopicFleet, always
from lianbo.domain.ports import Clock

log = structlog.get_logger()

CONNZ = "$SYS.REQ.SERVER.PING.CONNZ"
KICK = "$SYS.REQ.SERVER.{server}.KICK"
ANSWERS_S = 1.0  # how long every node has to say whether it holds a screen
SNAPSHOT_QUIET_S = 0.5  # the retained snapshot is over when this long passes quietly
SNAPSHOT_MAX_S = 30.0


def topic_of(subject_name: str) -> str:
    """The MQTT topic of one of our subjects (no ``.`` inside a level)."""
    return subject_name.replace(".", "/")


class NatsFleet(TopicFleet):
    def __init__(
        self,
        urls: list[str],
        login: Login,
        system: Login,
        snapshot: Broker | None,
        directory: Directory,
        seen: Seen,
        clock: Clock,
        *,
        callout: AuthCallout | None = None,
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
        self._urls = urls
        self._login = login
        self._system_login = system
        self._snapshot_broker = snapshot
        self._callout = callout
        self._group = share_group
        self._client: Client | None = None
        self._system: Client | None = None
        self._background: set[asyncio.Task[None]] = set()
        self.kicked = 0  # sessions ended (tests, logs)

    async def start(self) -> None:
        """Start the channel and, in this process, the auth callout."""
        fresh = not self._tasks
        await super().start()
        if fresh and self._callout is not None:
            self._tasks.append(asyncio.create_task(keep_answering(self._callout)))

    async def stop(self) -> None:
        for kick in list(self._background):
            kick.cancel()
        await super().stop()
        if self._callout is not None:
            await self._callout.stop()
        for client in (self._client, self._system):
            if client is not None:
                with contextlib.suppress(nats.errors.Error, OSError):
                    await client.close()
        self._client = self._system = None

    @property
    def callout(self) -> AuthCallout | None:
        return self._callout

    @property
    def ready(self) -> bool:
        """For ``/healthz``: connected to the cluster and, when this process
        answers the auth callout, answering it (else no screen can log in)."""
        if not self._tasks:
            return True  # not run here (``lianbo worker``)
        return self._ready.is_set() and (self._callout is None or self._callout.answering)

    def figures(self) -> FleetFigures:
        """As on any broker, and the logins this process's callout decided."""
        logins = self._callout.counts if self._callout is not None else None
        connected = self.ready if self._tasks else None  # not run here: no gauge
        return FleetFigures(connected, self._inbox.refused, logins)

    # the connection

    async def _connection(self) -> None:
        """Connect (retrying until a node answers); nats-py keeps it after."""
        delay = 1.0
        while self._client is None:
            try:
                await self._open()
            except (OSError, nats.errors.Error, TimeoutError) as error:
                if delay == 1.0:  # once, not per attempt
                    log.warning("NATS unreachable", error=str(error), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)
        await self._snapshot()
        self._ready.set()
        log.info("NATS fleet connected", servers=len(self._urls))
        await asyncio.Event().wait()  # until stopped

    async def _open(self) -> None:
        client = await connect(self._urls, self._login, "fleet", on_down=self._down, on_up=self._up)
        try:
            status = subject(topics.terminal("+", topics.STATUS))
            await client.subscribe(status, cb=self._on_message)
            await client.subscribe(
                subject(topics.terminal("+", topics.UP)), self._group, cb=self._on_message
            )
            await client.flush()
            self._system = await connect(self._urls, self._system_login, "system")
        except BaseException:
            await client.close()
            raise
        self._client = client

    async def _down(self) -> None:
        self._ready.clear()

    async def _up(self) -> None:
        """Back (on some node): ready at once; the retained presence is read
        again in its own task (nats-py waits for this callback)."""
        self._ready.set()
        task = asyncio.create_task(self._snapshot())
        self._background.add(task)  # held, and cancelled by ``stop``
        task.add_done_callback(self._background.discard)

    async def _on_message(self, msg: Msg) -> None:
        self._handle(topic_of(msg.subject), msg.data)

    async def _snapshot(self) -> None:
        """Read the retained ``status`` of every screen (MQTT only serves them)."""
        broker = self._snapshot_broker
        if broker is None:
            return
        heard = time.monotonic()

        def on_message(topic: str, payload: bytes) -> None:
            nonlocal heard
            heard = time.monotonic()
            self._handle(topic, payload)

        try:
            session = await open_session(
                broker.host,
                broker.port,
                on_message,
                client_id=f"lianbo-snapshot-{secrets.token_hex(6)}",
                username=broker.username,
                password=broker.password,
                keepalive_s=30,
            )
        except (MqttError, OSError) as error:
            log.warning("retained presence unavailable", error=str(error))
            return
        try:
            await session.subscribe([topics.SERVER_SUBSCRIPTIONS[0]])
            started = time.monotonic()
            while time.monotonic() - heard < SNAPSHOT_QUIET_S:
                if time.monotonic() - started > SNAPSHOT_MAX_S:
                    break
                await asyncio.sleep(SNAPSHOT_QUIET_S / 5)
        except MqttError as error:
            log.warning("retained presence unavailable", error=str(error))
        finally:
            session.close()

    async def _publish_many(self, items: list[tuple[str, str]]) -> int:
        """Hand every message to nats-py (which holds them while it reconnects
        to another node); none when the connection is closed for good."""
        client = self._client
        if client is None or client.is_closed:
            if items:
                log.info("NATS pushes dropped", dropped=len(items))
            return 0
        sent = 0
        try:
            for topic, payload in items:
                await client.publish(subject(topic), payload.encode())
                sent += 1
        except (nats.errors.Error, OSError) as error:  # its reconnect buffer is full
            log.info("NATS pushes dropped", dropped=len(items) - sent, error=str(error))
        return sent

    # FleetChannel

    async def drop(self, terminal_id: str, *, revoked: bool) -> bool:
        """End the screen's broker session on every node (in the background):
        a retired or re-enrolled screen is refused when it tries again, an
        edited one logs in again with its new region's permissions."""
        here = terminal_id in self._registry
        self._registry.remove(terminal_id)
        task = asyncio.create_task(self._kick(terminal_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return here

    async def kick(self, terminal_id: str) -> int:
        """End every session of ``terminal_id`` now; how many were ended."""
        client = self._system
        if client is None or client.is_closed:
            log.warning("NATS kick impossible: not connected", terminal_id=terminal_id)
            return 0
        answers = client.new_inbox()
        found: list[tuple[str, int]] = []
        sub = await client.subscribe(answers)
        try:
            query = json.dumps({"mqtt_client": terminal_id}).encode()
            await client.publish(CONNZ, query, reply=answers)
            deadline = time.monotonic() + ANSWERS_S
            while (left := deadline - time.monotonic()) > 0:
                try:
                    msg = await sub.next_msg(timeout=left)
                except nats.errors.TimeoutError:
                    break
                found += _connections(msg.data)
        finally:
            await sub.unsubscribe()
        for server, cid in found:
            payload = json.dumps({"cid": cid}).encode()
            await client.request(KICK.format(server=server), payload, timeout=ANSWERS_S)
        self.kicked += len(found)
        if found:
            log.info("NATS session ended", terminal_id=terminal_id, sessions=len(found))
        return len(found)

    async def _kick(self, terminal_id: str) -> None:
        try:
            await self.kick(terminal_id)
        except (nats.errors.Error, OSError, TimeoutError) as error:
            log.warning("NATS kick failed", terminal_id=terminal_id, error=str(error))


def _connections(answer: bytes) -> list[tuple[str, int]]:
    """(server id, client id) of each connection in one node's CONNZ answer."""
    try:
        body = json.loads(answer)
        server = str(body["server"]["id"])
        connections = body["data"].get("connections") or []
        return [(server, int(c["cid"])) for c in connections]
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("NATS CONNZ answer unreadable")
        return []
