"""Virtual screens: a few slots of state and a protocol callback each.

A screen is its own ``asyncio.Protocol`` (reused across reconnects), so a
connected screen costs no task; it connects from its own 127.0.x.y source
address (over TLS when the fleet has a context, naming itself with
``?terminal=<id>`` as the player does), answers pings, records when a push
arrived and when the manifest it names was fetched, and reconnects with
jittered exponential backoff. In a fleet that answers alerts it also does
what a player does for guaranteed delivery: takes the alerts the hub lists
right after its ``hello`` on every (re)connect (an ``alerts`` message; asks
``GET /terminal/v1/alerts`` when none is to follow — MQTT — or it lists
nothing because the server could not read them) and acks
each new alert ``displayed`` a moment later (uniform in
``fleet.display_jitter_s``: a real screen renders first, and 10,000 screens
do not finish in the same millisecond) — over its push channel (an
``alert-ack`` message, sent again after a reconnect until the server
answers; HTTP when the server asks to retry), or over HTTP when the fleet's
``acks_over`` says so or the screen is not connected.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from lianbo.protocol.messages import clock_offset

if TYPE_CHECKING:
    from lianbo.sim.worker import Fleet

RETRY_CAP_S = 4.0
GAVE_UP = {1008, 4001}  # refused, or replaced: retrying would not help


@dataclass(frozen=True, slots=True)
class Credential:
    terminal_id: str
    token: str
    region: str


def source_address(index: int) -> str:
    """250 screens per loopback address: ephemeral ports never run out."""
    return f"127.0.{1 + index // 20000}.{1 + (index % 20000) // 250}"


class Screen(asyncio.Protocol):
    """What both transports share: state, message handling, reconnecting."""

    __slots__ = (
        "acking",
        "alert",
        "alert_at",
        "applied_at",
        "applied_version",
        "attempts",
        "buffer",
        "closed_with",
        "command",
        "connecting",
        "credential",
        "endpoint",
        "etag",
        "fleet",
        "hello_at",
        "offset",
        "push_at",
        "push_version",
        "source",
        "transport",
    )

    def __init__(self, fleet: Fleet, credential: Credential, source: str) -> None:
        self.fleet = fleet
        self.credential = credential
        self.source = source
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.attempts = 0
        self.endpoint = 0  # which of the fleet's endpoints (broker nodes) it uses
        self.connecting = False
        self.closed_with: int | None = None
        self.hello_at = 0.0
        self.etag: str | None = None
        self.push_at = self.applied_at = 0.0
        self.push_version = self.applied_version = ""
        self.offset: float | None = None
        self.alert: tuple[str, float] | None = None  # latest alert: id, latency to sent_at
        self.alert_at = 0.0  # when the latest alert arrived (push or fetch)
        self.command: tuple[str, float] | None = None  # latest command: id, arrival
        self.acking: str | None = None  # an alert acked on the channel, not yet answered

    @property
    def ready(self) -> bool:
        return self.transport is not None and self.hello_at > 0

    # connecting

    async def connect(self) -> None:
        """Connect, holding one of the fleet's connecting slots until greeted:
        a burst larger than the server's listen backlog ends in SYN drops
        and retransmits of seconds (mosquitto listens with a backlog of 100)."""
        await self.fleet.connecting.acquire()
        self.connecting = True
        loop = asyncio.get_running_loop()
        tls = self.fleet.socket_tls
        host, port = self.fleet.endpoints[self.endpoint % len(self.fleet.endpoints)]
        try:
            await loop.create_connection(
                lambda: self,
                host,
                port,
                local_addr=(self.source, 0),
                ssl=tls,
                server_hostname=self.fleet.host if tls is not None else None,
            )
        except OSError:
            self.done_connecting()
            self.retry()

    def done_connecting(self) -> None:
        if self.connecting:
            self.connecting = False
            self.fleet.connecting.release()

    def retry(self) -> None:
        if not self.fleet.running or self.closed_with in GAVE_UP:
            return
        self.attempts += 1
        self.endpoint += 1  # the next node, if there are several (none: the same)
        delay = min(RETRY_CAP_S, 0.25 * 2**self.attempts) * (0.5 + random.random())
        asyncio.get_running_loop().call_later(delay, self.fleet.reconnect, self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        self.buffer = bytearray()
        self.hello_at = 0.0
        self.opened()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.hello_at = 0.0
        self.done_connecting()
        self.retry()

    def local_address(self) -> str:
        """``ip:port`` this screen's socket comes from ("" when not connected)."""
        if self.transport is None:
            return ""
        name = self.transport.get_extra_info("sockname")
        return f"{name[0]}:{name[1]}" if name else ""

    def opened(self) -> None:
        raise NotImplementedError

    def send(self, message: dict[str, Any]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    # messages

    def on_message(self, raw: bytes) -> None:
        now = time.time()
        try:
            message = json.loads(raw)
            kind = message["type"]
        except (ValueError, KeyError, TypeError):
            self.fleet.counts["malformed"] += 1
            return
        if kind == "manifest":
            self.push_at, self.push_version = now, message["version"]
            url = message.get("url")
            if self.etag == self.push_version:
                self.applied_at, self.applied_version = now, self.etag
            elif isinstance(url, str) and self.fleet.fetch_pushed_urls:
                self.fleet.published(self, url)  # at once, no spread (ADR 0024)
            else:
                self.fleet.fetcher.fetch(self)
        elif kind == "alert":
            self.alerted(str(message.get("id")), now, now - float(message.get("sent_at", now)))
        elif kind == "command":
            self.command = (str(message.get("id")), now)
        elif kind == "time":
            self.offset = clock_offset(message["t0"], message["server_time"], now)
        elif kind == "hello":
            self.greeted(now, listing=message.get("alerts_follow") is True)
        elif kind == "alerts":
            if self.fleet.answers_alerts:
                self.catch_up(message.get("alerts"), now)
        elif kind == "alert-ack":
            self.ack_answered(message)

    def greeted(self, now: float, *, listing: bool = False) -> None:
        """Connected and greeted; ``listing``: the hub's ``alerts`` message
        follows (else ask for them)."""
        self.hello_at = now
        self.attempts = 0
        self.done_connecting()
        self.fleet.counts["hellos"] += 1
        self.send({"type": "time", "t0": now})
        if self.acking is not None:  # its answer was lost with the old connection
            self.ack(self.acking)
        if self.fleet.answers_alerts and not listing:
            self.catch_up(None, now)
        if self.fleet.fetch_on_hello:  # spread out, as a player should after a reconnect
            delay = random.random() * self.fleet.fetch_jitter_s
            asyncio.get_running_loop().call_later(delay, self.fleet.fetcher.fetch, self)

    def catch_up(self, alerts: Any, now: float) -> None:
        """What was issued while away: as the hub listed it, else asked for."""
        if isinstance(alerts, list):
            self.fleet.counts["alerts_listed_on_socket"] += 1
            self.listed(alerts, now)
        else:
            self.fleet.fetcher.alerts(self)

    def alerted(self, alert_id: str, now: float, latency: float) -> None:
        """An alert arrived (pushed or listed): the first arrival counts,
        and a fleet that answers alerts acks it ``displayed``."""
        if self.alert is not None and self.alert[0] == alert_id:
            return
        self.alert, self.alert_at = (alert_id, latency), now
        if not self.fleet.answers_alerts:
            return
        spread = self.fleet.display_jitter_s
        if spread > 0:  # shown a moment later, as a screen that renders first
            asyncio.get_running_loop().call_later(random.random() * spread, self.ack, alert_id)
        else:
            self.ack(alert_id)

    def ack(self, alert_id: str) -> None:
        """Ack ``displayed``: up the channel when it is up (and the fleet says
        so), else over HTTP."""
        if self.fleet.acks_over == "channel" and self.ready:
            self.acking = alert_id
            body = {"ref": alert_id[-64:], "alert_id": alert_id, "state": "displayed"}
            self.send({"type": "alert-ack", **body})
            self.fleet.counts["ack_channel_sent"] += 1
            return
        at = datetime.now(UTC).isoformat()
        self.fleet.fetcher.ack(self, alert_id, "displayed", at)

    def ack_answered(self, message: dict[str, Any]) -> None:
        """The server's answer to an ``alert-ack``: stored, refused for good,
        or to be sent again (then over HTTP)."""
        alert_id = message.get("alert_id")
        if alert_id != self.acking:
            return
        self.acking = None
        refused = message.get("refused")
        if refused is None:
            self.fleet.counts["ack_channel_ok"] += 1
            return
        self.fleet.counts[f"ack_channel_refused_{refused}"] += 1
        if "retry_after" in message:
            self.fleet.fetcher.ack(self, str(alert_id), "displayed", datetime.now(UTC).isoformat())

    def alerts_fetched(self, status: int, etag: str | None, body: bytes = b"") -> None:
        self.fleet.counts[f"alerts_http_{status}"] += 1
        if status != 200:
            return
        try:
            items = json.loads(body)["alerts"]
        except (ValueError, KeyError, TypeError):
            self.fleet.counts["alerts_unreadable"] += 1
            return
        self.listed(items, time.time())

    def listed(self, items: Any, now: float) -> None:
        """The alerts a list names (the GET's reply or the greeting's)."""
        try:
            listed = [str(item["id"]) for item in items if item.get("type") == "alert"]
        except (KeyError, TypeError, AttributeError):
            self.fleet.counts["alerts_unreadable"] += 1
            return
        for alert_id in listed:
            self.alerted(alert_id, now, math.nan)

    def acked(self, status: int, etag: str | None, body: bytes = b"") -> None:
        self.fleet.counts[f"ack_http_{status}"] += 1

    def published_fetched(self, status: int, etag: str | None, body: bytes = b"") -> None:
        """The answer from a pushed URL (its ETag is the version): applied
        when it is the pushed version; anything but 200 falls back to
        ``GET /terminal/v1/manifest``, as the player does. (An older
        version's answer after a newer push: that push's own fetch counts.)"""
        self.fleet.counts[f"published_{status}"] += 1
        if status != 200 or etag is None:
            self.fleet.fetcher.fetch(self)
            return
        if etag == self.push_version and self.applied_version != etag:
            self.etag = etag
            self.applied_at, self.applied_version = time.time(), etag

    def fetched(self, status: int, etag: str | None, body: bytes = b"") -> None:
        self.fleet.counts[f"http_{status}"] += 1
        if etag is not None and status in (200, 304):
            self.etag = etag
            if etag == self.push_version and self.applied_version != etag:
                self.applied_at, self.applied_version = time.time(), etag
