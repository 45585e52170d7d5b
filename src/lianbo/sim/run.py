"""The coordinator: spawn worker processes, enrol, connect, measure.

Propagation is measured from the moment the simulator publishes a schedule
(a server-side change made through the admin API) to each screen having
*received the push* and to each having *applied* it (fetched the manifest
version the push named). Workers stamp with the wall clock; they run on
the same host as the coordinator, so stamps compare directly.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from lianbo.adapters.fleet import mosquitto
from lianbo.player.tls import server_context
from lianbo.sim import worker
from lianbo.sim.admin import Admin
from lianbo.sim.screens import Credential
from lianbo.sim.worker import WorkerConfig

# Screens per worker process by default (each holds a socket, and a
# process may hold 20,000 files). On 2 cores a third client process made
# even bare mosquitto's fan-out to 15,000 ~100 ms slower (docs/benchmarks.md).
PER_PROCESS = 7500


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int

    @classmethod
    def parse(cls, url: str, default_port: int = 80) -> Endpoint:
        parts = urlsplit(url if "//" in url else f"//{url}")
        return cls(parts.hostname or "127.0.0.1", parts.port or default_port)


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    """p50/p90/p99/max in milliseconds (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return {"p50": None, "p90": None, "p99": None, "max": None}

    def rank(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, math.ceil(p * len(ordered)) - 1)] * 1000, 1)

    return {"p50": rank(0.5), "p90": rank(0.9), "p99": rank(0.99), "max": rank(1.0)}


def default_processes(count: int) -> int:
    """Worker processes for ``count`` screens (``PER_PROCESS`` each)."""
    return max(1, math.ceil(count / PER_PROCESS))


class Workers:
    """Worker processes, each with a share of the screens, and a pipe to each."""

    def __init__(
        self,
        kind: Literal["hub", "mqtt"],
        connect_to: Endpoint,
        server: Endpoint,
        credentials: list[Credential],
        processes: int,
        *,
        heartbeat_s: float = 30.0,
        fetch_connections: int = 16,
        max_connecting: int = 192,
        fetch_on_hello: bool = True,
        fetch_jitter_s: float | None = None,
        tls: bool = False,
        ca_pem: str | None = None,
        answers_alerts: bool = False,
        acks_over: str = "channel",
        edges: Sequence[Endpoint] = (),
        brokers: Sequence[Endpoint] = (),
    ) -> None:
        """``edges``: several front doors (load balancers, each holding at most
        20,000 open files); worker k uses ``edges[k % len(edges)]`` for its
        sockets and calls instead of ``connect_to`` and ``server``.
        ``brokers``: the nodes of a broker cluster; worker k's screens
        connect to ``brokers[k % len(brokers)]`` (``connected_to`` says which)."""
        self.count = len(credentials)
        self.fetch_jitter_s = 0.0
        share = math.ceil(len(credentials) / max(1, processes)) or 1
        # a (re)connected screen checks its manifest at a random moment within
        # this: about 500 checks a second, what one server process answers
        jitter = min(30.0, len(credentials) / 500) if fetch_jitter_s is None else fetch_jitter_s
        self.fetch_jitter_s = jitter
        context = multiprocessing.get_context("spawn")
        self._pipes: list[Connection] = []
        self._processes: list[BaseProcess] = []
        self.connected_to: dict[str, Endpoint] = {}  # terminal id -> where its worker connects
        for k, first in enumerate(range(0, len(credentials), share)):
            if edges:
                connect_to = server = edges[k % len(edges)]
            fallbacks: tuple[tuple[str, int], ...] = ()
            if brokers:
                connect_to = brokers[k % len(brokers)]
                after = [*brokers[k % len(brokers) + 1 :], *brokers[: k % len(brokers)]]
                fallbacks = tuple((b.host, b.port) for b in after)
            for credential in credentials[first : first + share]:
                self.connected_to[credential.terminal_id] = connect_to
            config = WorkerConfig(
                kind,
                connect_to.host,
                connect_to.port,
                server.host,
                server.port,
                credentials[first : first + share],
                first,
                heartbeat_s=heartbeat_s,
                fetch_connections=fetch_connections,
                max_connecting=max(1, max_connecting * share // max(1, len(credentials))),
                fetch_on_hello=fetch_on_hello,
                fetch_jitter_s=jitter,
                tls=tls,
                ca_pem=ca_pem,
                answers_alerts=answers_alerts,
                acks_over=acks_over,
                fallbacks=fallbacks,
            )
            mine, theirs = context.Pipe()
            process = context.Process(target=worker.main, args=(theirs, config), daemon=True)
            process.start()
            theirs.close()
            self._pipes.append(mine)
            self._processes.append(process)

    async def call(self, command: str, *args: Any) -> list[Any]:
        async def one(pipe: Connection) -> Any:
            pipe.send((command, args))
            answer = await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
            if isinstance(answer, Exception):
                raise answer
            return answer

        return list(await asyncio.gather(*(one(p) for p in self._pipes)))

    async def start(self) -> None:
        await self.call("start")

    async def ready(self) -> int:
        return sum(s["ready"] for s in await self.call("stats"))

    async def wait_ready(self, count: int, timeout_s: float, *, since: float = 0.0) -> float:
        """Seconds until ``count`` screens are greeted (since ``since``); inf on timeout."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            if sum(await self.call("ready_since", since)) >= count:
                return time.monotonic() - started
            await asyncio.sleep(0.1)
        return math.inf

    async def drained(self, timeout_s: float) -> bool:
        """Until the screens' pending manifest fetches are done."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if sum(s["fetching"] for s in await self.call("stats")) == 0:
                return True
            await asyncio.sleep(0.25)
        return False

    async def stop(self) -> dict[str, Any]:
        stats = await self.call("stop")
        for process in self._processes:
            process.join(10)
            if process.is_alive():
                process.kill()
        counts: dict[str, int] = {}
        for s in stats:
            for key, value in s["counts"].items():
                counts[key] = counts.get(key, 0) + value
        offsets = [s["max_abs_clock_offset_s"] for s in stats if s["max_abs_clock_offset_s"]]
        return {
            "counts": counts,
            "max_abs_clock_offset_ms": round(max(offsets) * 1000, 1) if offsets else None,
            "worker_rss_kb": [s["rss_kb"] for s in stats],
        }


async def wait_online(admin: Admin, count: int, timeout_s: float) -> bool:
    """Until the server counts ``count`` of this run's screens online."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await admin.online() >= count:
            return True
        await asyncio.sleep(0.25)
    return False


async def propagate(
    admin: Admin,
    workers: Workers,
    playlist_id: str,
    region: str,
    expected: int,
    timeout_s: float = 30.0,
) -> dict[str, Any]:
    """Publish a schedule reaching every screen; time its push and its fetch."""
    schedule_id = await admin.draft(playlist_id, region)
    since = time.time()
    await admin.publish(schedule_id)
    publish_s = time.time() - since
    deadline = time.monotonic() + timeout_s
    while True:
        parts = await workers.call("propagation", since)
        applied = [a for p in parts for a in p["applied"]]
        if len(applied) >= expected or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    pushed = [a for p in parts for a in p["push"]]
    lagging = [x for part in await workers.call("lagging", since) for x in part][:5]
    return {
        "lagging": lagging,
        "expected": expected,
        "pushed": len(pushed),
        "applied": len(applied),
        "publish_request_ms": round(publish_s * 1000, 1),
        "first_push_ms": round(min(pushed) * 1000, 1) if pushed else None,
        "push_ms": percentiles(pushed),
        "applied_ms": percentiles(applied),
    }


async def region_message(
    workers: Workers, publish: Any, region: str, expected: int, timeout_s: float = 15.0
) -> dict[str, Any]:
    """Send one ``alert`` to a region topic via ``publish(region, message)``;
    latency per screen from the message's ``sent_at``."""
    from lianbo.protocol.messages import Message

    alert_id = f"sim-{time.time_ns()}"
    await publish(region, Message("alert", {"id": alert_id, "sent_at": time.time()}))
    deadline = time.monotonic() + timeout_s
    while True:
        latencies = [x for part in await workers.call("alerts", alert_id) for x in part]
        if len(latencies) >= expected or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    return {"expected": expected, "received": len(latencies), "latency_ms": percentiles(latencies)}


@dataclass(frozen=True, slots=True)
class SimOptions:
    server: str
    terminals: int
    user: str
    password: str
    fleet: Literal["hub", "mqtt"] = "hub"
    processes: int | None = None
    region: str = "51"
    broker: str = "127.0.0.1:1883"
    rounds: int = 1
    heartbeat_s: float = 30.0
    timeout_s: float = 120.0
    mqtt_password_file: Path | None = None
    mqtt_pid: int | None = None
    ca_pem: str | None = None  # a CA to trust for an https server (besides the system's)


def provision_mosquitto(path: Path, credentials: list[Credential], pid: int | None) -> None:
    """Add the screens to a mosquitto password file (keeping other entries)
    and make the broker reload it (SIGHUP) when its pid is known."""
    ours = {c.terminal_id for c in credentials}
    kept = []
    if path.exists():
        kept = [
            line
            for line in path.read_text(encoding="utf-8").splitlines()
            if line and line.split(":", 1)[0] not in ours
        ]
    lines = kept + [mosquitto.password_line(c.terminal_id, c.token) for c in credentials]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if pid is not None:
        os.kill(pid, signal.SIGHUP)
        time.sleep(0.5)


async def simulate(options: SimOptions) -> dict[str, Any]:
    """Enrol, connect, publish ``rounds`` times, report; the CLI's whole run."""
    tls = options.server.startswith("https://")
    verify = server_context(options.ca_pem) if tls else True
    admin = await Admin.login(options.server, options.user, options.password, verify)
    try:
        started = time.monotonic()
        places = await admin.places(options.region)
        credentials = await admin.enrol(options.terminals, places)
        enrol_s = time.monotonic() - started
        playlist_id = await admin.programme(options.region)
        if options.fleet == "mqtt" and options.mqtt_password_file is not None:
            provision_mosquitto(options.mqtt_password_file, credentials, options.mqtt_pid)
        server = Endpoint.parse(options.server, 443 if tls else 80)
        target = server if options.fleet == "hub" else Endpoint.parse(options.broker, 1883)
        processes = options.processes or default_processes(len(credentials))
        workers = Workers(
            options.fleet,
            target,
            server,
            credentials,
            processes,
            heartbeat_s=options.heartbeat_s,
            max_connecting=192 if options.fleet == "hub" else 96,
            tls=tls,
            ca_pem=options.ca_pem,
        )
        try:
            await workers.start()
            connect_s = await workers.wait_ready(len(credentials), options.timeout_s)
            online = await wait_online(admin, len(credentials), options.timeout_s)
            await asyncio.sleep(workers.fetch_jitter_s)  # every screen has asked once
            await workers.drained(options.timeout_s)
            rounds = [
                await propagate(admin, workers, playlist_id, options.region, len(credentials))
                for _ in range(options.rounds)
            ]
        finally:
            stats = await workers.stop()
    finally:
        await admin.close()
    return {
        "fleet": options.fleet,
        "terminals": len(credentials),
        "processes": processes,
        "enrol_s": round(enrol_s, 2),
        "connect_s": round(connect_s, 2),
        "server_sees_all_online": online,
        "propagation": rounds,
        **stats,
    }
