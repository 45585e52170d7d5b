"""One simulator process: a few thousand screens on one event loop.

The coordinator talks to it over a pipe, one request at a time:
``(command, args)`` in, a picklable answer out (see ``Fleet.answer``).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import resource
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import urlsplit

from lianbo.player.tls import server_context
from lianbo.sim.fetch import Fetcher
from lianbo.sim.screens import Credential, Screen, source_address
from lianbo.sim.transports import MqttScreen, WsScreen

WS_PATH = "/terminal/v1/ws"


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    kind: str  # "hub" | "mqtt"
    host: str  # where the screens connect (server for hub, broker for mqtt)
    port: int
    http_host: str  # where manifests are fetched
    http_port: int
    credentials: list[Credential]
    first_index: int  # of this worker's first screen in the whole simulation
    heartbeat_s: float = 30.0
    fetch_connections: int = 16
    fetch_on_hello: bool = True
    fetch_jitter_s: float = 5.0  # a (re)connected screen checks its manifest within this
    max_connecting: int = 64  # connection attempts in flight at once
    tls: bool = False  # https/wss, the server's certificate checked as the player does
    ca_pem: str | None = None  # a CA to trust besides the system's (``--ca-file``)
    answers_alerts: bool = False  # list alerts on (re)connect, ack each ``displayed``
    acks_over: str = "channel"  # "channel" (``alert-ack`` up the push channel) | "http"
    display_jitter_s: float = 0.5  # an alert is acked displayed within this after it came
    # further broker nodes (host, port), tried in turn after ``host``:``port``
    # when a connection fails or ends, as the player does (MQTT only)
    fallbacks: tuple[tuple[str, int], ...] = ()
    fetch_pushed_urls: bool = True  # a push naming a URL: fetch it there (else the API)


class Fleet:
    def __init__(self, config: WorkerConfig) -> None:
        self.host, self.port, self.path = config.host, config.port, WS_PATH
        self.endpoints = [(config.host, config.port), *config.fallbacks]
        self.heartbeat_s = config.heartbeat_s
        self.fetch_on_hello = config.fetch_on_hello
        self.fetch_jitter_s = config.fetch_jitter_s
        self.connecting = asyncio.Semaphore(config.max_connecting)
        self.running = False
        self.counts: Counter[str] = Counter()
        self.tls = server_context(config.ca_pem) if config.tls else None
        # the screens' own connections: TLS to the server's socket; a broker's
        # MQTT port here is plain (HTTP calls still use ``tls``)
        self.socket_tls = self.tls if config.kind == "hub" else None
        self.answers_alerts = config.answers_alerts
        self.acks_over = config.acks_over
        self.display_jitter_s = config.display_jitter_s
        self.fetcher = Fetcher(
            config.http_host, config.http_port, config.fetch_connections, self.tls
        )
        self.fetch_connections = config.fetch_connections
        self.fetch_pushed_urls = config.fetch_pushed_urls
        self.pools: dict[tuple[str, int, bool], Fetcher] = {}  # pushed URLs' hosts
        kind = WsScreen if config.kind == "hub" else MqttScreen
        self.screens: list[Screen] = [
            kind(self, c, source_address(config.first_index + i))
            for i, c in enumerate(config.credentials)
        ]
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def reconnect(self, screen: Screen) -> None:
        if self.running:
            self.spawn(screen.connect())

    def published(self, screen: Screen, url: str) -> None:
        """Fetch a pushed manifest URL at once, on this worker's pool for its
        host:port (made on first use: the edge, or the server itself)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.counts["published_bad_url"] += 1
            self.fetcher.fetch(screen)
            return
        https = parts.scheme == "https"
        key = (parts.hostname, parts.port or (443 if https else 80), https)
        pool = self.pools.get(key)
        if pool is None:
            pool = Fetcher(key[0], key[1], self.fetch_connections, self.tls if https else None)
            pool.start()
            self.pools[key] = pool
        pool.published(screen, parts.path)

    async def start(self) -> None:
        self.running = True
        self.fetcher.start()
        self.spawn(self._heartbeats())
        for screen in self.screens:
            self.spawn(screen.connect())

    async def stop(self) -> None:
        self.running = False
        for screen in self.screens:
            screen.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for fetcher in [self.fetcher, *self.pools.values()]:
            await fetcher.stop()

    async def _heartbeats(self) -> None:
        """Each screen reports a status once per heartbeat interval, spread out."""
        per_tick = max(1, math.ceil(len(self.screens) / self.heartbeat_s))
        cycle = itertools.cycle(self.screens)
        started = time.monotonic()
        while True:
            await asyncio.sleep(1)
            for screen in itertools.islice(cycle, per_tick):
                if screen.ready:
                    screen.send({"type": "status", "up_s": int(time.monotonic() - started)})

    def answer(self, command: str, args: tuple[Any, ...]) -> Any:
        if command == "stats":
            return self.stats()
        if command == "answer_alerts":  # ack the alerts that come from now on (or not)
            self.answers_alerts = bool(args[0])
            return self.answers_alerts
        if command == "ready_since":  # screens greeted at or after a moment
            return sum(1 for s in self.screens if s.ready and s.hello_at >= args[0])
        if command == "propagation":  # pushes and fetches after a server-side change
            since = args[0]
            pushed = [s for s in self.screens if s.push_at >= since]
            return {
                "push": [s.push_at - since for s in pushed],
                "applied": [
                    s.applied_at - since
                    for s in pushed
                    if s.applied_version == s.push_version and s.applied_at >= since
                ],
                "ready": sum(1 for s in self.screens if s.ready),
            }
        if command == "lagging":  # pushed after ``since`` but not applied (diagnosis)
            return [
                (s.credential.terminal_id, s.etag, s.push_version, s.applied_version, s.ready)
                for s in self.screens
                if s.push_at >= args[0] and s.applied_version != s.push_version
            ]
        if command == "alerts":
            return [s.alert[1] for s in self.screens if s.alert and s.alert[0] == args[0]]
        if command == "alert_times":  # wall-clock arrivals of an alert (pushed or listed)
            return {
                s.credential.terminal_id: s.alert_at
                for s in self.screens
                if s.alert and s.alert[0] == args[0]
            }
        if command == "alert_sent":  # {terminal: the server's sent_at} of a pushed alert
            return {
                s.credential.terminal_id: s.alert_at - s.alert[1]
                for s in self.screens
                if s.alert and s.alert[0] == args[0] and s.alert[1] > 0
            }
        if command == "commands":  # {command id: arrival} of the latest command per screen
            return {s.command[0]: s.command[1] for s in self.screens if s.command}
        if command == "addresses":  # {terminal id: "ip:port"} of each connected socket
            return {
                s.credential.terminal_id: s.local_address()
                for s in self.screens
                if s.ready and s.local_address()
            }
        raise ValueError(f"unknown command {command!r}")

    def stats(self) -> dict[str, Any]:
        offsets = [abs(s.offset) for s in self.screens if s.offset is not None]
        return {
            "screens": len(self.screens),
            "ready": sum(1 for s in self.screens if s.ready),
            "fetching": sum(f.queue.qsize() + f.busy for f in [self.fetcher, *self.pools.values()]),
            "counts": dict(self.counts),
            "max_abs_clock_offset_s": max(offsets, default=None),
            "rss_kb": rss_kb(),
        }


def rss_kb(pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def raise_open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(conn: Connection, config: WorkerConfig) -> None:
    """Process entry point (spawned by the coordinator)."""
    raise_open_files()
    try:
        import uvloop

        uvloop.run(_serve(conn, config))
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        asyncio.run(_serve(conn, config))


async def _serve(conn: Connection, config: WorkerConfig) -> None:
    fleet = Fleet(config)
    loop = asyncio.get_running_loop()
    while True:
        try:
            command, args = await loop.run_in_executor(None, conn.recv)
        except EOFError:  # the coordinator is gone
            command, args = "stop", ()
        if command == "start":
            await fleet.start()
            conn.send(len(fleet.screens))
        elif command == "stop":
            await fleet.stop()
            conn.send(fleet.stats())
            return
        else:
            try:
                conn.send(fleet.answer(command, args))
            except Exception as error:
                conn.send(error)
