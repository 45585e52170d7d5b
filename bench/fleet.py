"""Benchmark ``fleet``: pushing to connected screens, hub and MQTT, vs the raw limit.

Issue 5 targets on this 2-core machine, server and simulator together:
(a) the built-in hub with N connected screens: a published change reaches
all with p99 <= 1 s; after a server restart all are back within 60 s with
no server error; (b) MQTT (mosquitto) with 1.5 N screens: a region-wide
message reaches all with p99 <= 1 s; (c) server memory per idle connected
screen < 20 KB (RSS delta / N); and the raw anchors (bare websockets hub,
bare mosquitto, minimal clients) measured in the same run, so lianbo's
overhead shows as a ratio (goal <= 2).

Screens are seeded straight into the store with tokens (setup, not what
is measured; ``lianbo sim`` enrols through the API instead). Propagation
is timed from the publish request: ``push`` is the push arriving,
``applied`` the screen having fetched the version the push named.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import structlog
from sqlalchemy import update

from bench import seed
from bench.harness.ports import free_port
from lianbo.adapters.db.tables import TerminalRow
from lianbo.adapters.fleet import mosquitto
from lianbo.adapters.fleet.mqtt import Broker, MqttFleet
from lianbo.bootstrap import bootstrap
from lianbo.config import Settings
from lianbo.domain.terminals import Terminal, TerminalStatus, Tier
from lianbo.domain.tokens import digest, new_secret
from lianbo.services.setup import initialise
from lianbo.sim import anchors
from lianbo.sim.admin import Admin
from lianbo.sim.run import (
    Endpoint,
    Workers,
    default_processes,
    percentiles,
    propagate,
    region_message,
    wait_online,
)
from lianbo.sim.screens import Credential
from lianbo.sim.worker import rss_kb

DEFAULT_SIZE = 10_000  # what `lianbo bench fleet` uses without --size
PLACES = 20  # counties the screens are spread over (x 3 tiers = the audiences)
SERVER_ACCOUNT = ("lianbo-server", secrets.token_urlsafe(16))
ERROR_LINE = re.compile(r"Traceback|\[error|\bERROR\b|Exception in")


def _note(what: str) -> None:
    """Progress on stderr (stdout carries the one JSON line)."""
    print(f"[fleet {time.strftime('%H:%M:%S')}] {what}", file=sys.stderr, flush=True)


class Server:
    """``lianbo serve`` in a subprocess, logs kept for the error check."""

    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.env = os.environ | {"LIANBO_DATA_DIR": str(data_dir)} | env
        self.process: subprocess.Popen[bytes] | None = None
        self.runs = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        self.runs += 1
        log = open(self.data_dir / f"server-{self.runs}.log", "wb")  # noqa: SIM115
        lianbo = Path(sys.executable).with_name("lianbo")
        self.process = subprocess.Popen(
            [str(lianbo), "serve", "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: see {log.name}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not become ready")

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(60)
            self.process = None

    def errors(self) -> list[str]:
        found = []
        for log in sorted(self.data_dir.glob("server-*.log")):
            text = log.read_text(encoding="utf-8", errors="replace")
            found += [line[:200] for line in text.splitlines() if ERROR_LINE.search(line)]
        return found


async def _seed(settings: Settings, count: int) -> list[Credential]:
    """An admin, ``count`` enrolled screens tagged for the simulator."""
    container = bootstrap(settings)
    await initialise(container)
    places = (await seed.counties(container))[:PLACES]
    await seed.admin(container)
    now = datetime.now(UTC)
    tiers = (Tier.OUTDOOR, Tier.HALL, Tier.HOME)
    screens = [
        Terminal(
            id=uuid.uuid4().hex,
            name=f"fleet-{i:06d}",
            tier=tiers[i % 3],
            region=places[i % len(places)],
            latitude=30.6,
            longitude=104.0,
            status=TerminalStatus.OFFLINE,
            tags=("sim-bench",),
            groups=(),
            created_at=now,
            updated_at=now,
            enrolled_at=now,
        )
        for i in range(count)
    ]
    tokens = [new_secret() for _ in screens]
    async with container.uow() as uow:
        for start in range(0, count, 5000):
            await uow.terminals.add_many(screens[start : start + 5000])
        await uow.session.execute(
            update(TerminalRow),
            [{"id": t.id, "token_hash": digest(k)} for t, k in zip(screens, tokens, strict=True)],
        )
        await uow.commit()
    await container.close()
    return [Credential(t.id, k, t.region) for t, k in zip(screens, tokens, strict=True)]


async def _all_offline(settings: Settings) -> None:
    """Between phases (server stopped): nobody counts as online."""
    container = bootstrap(settings)
    async with container.uow() as uow:
        await uow.session.execute(update(TerminalRow).values(status="offline"))
        await uow.commit()
    await container.close()


async def _admin(server: Server) -> Admin:
    admin = await Admin.login(server.base, "bench", seed.PASSWORD)
    admin.run = "bench"  # the seeded screens carry the tag sim-bench
    return admin


async def _drained(workers: Workers, timeout_s: float) -> None:
    """Until every screen has fetched its manifest once (start-up checks are
    spread over ``fetch_jitter_s``)."""
    await asyncio.sleep(workers.fetch_jitter_s)
    await workers.drained(timeout_s)


def _spread(result: dict[str, Any]) -> None:
    """Fan-out spread: last push minus first (the rebuild is before the first)."""
    push = result["push_ms"]
    result["fanout_spread_ms"] = (
        round(push["max"] - result.pop("first_push_ms"), 1) if push["max"] is not None else None
    )


async def _hub_phase(server: Server, credentials: list[Credential]) -> dict[str, Any]:
    n = len(credentials)
    admin = await _admin(server)
    endpoint = Endpoint("127.0.0.1", server.port)
    playlist = await admin.programme("51")
    idle_rss = rss_kb(server.pid)
    workers = Workers("hub", endpoint, endpoint, credentials, default_processes(n))
    try:
        started = time.monotonic()
        await workers.start()
        await workers.wait_ready(n, 120)
        connect_s = time.monotonic() - started
        _note(f"hub: {n} screens connected in {connect_s:.1f} s")
        online = await wait_online(admin, n, 60)
        await _drained(workers, 120)
        _note("hub: start-up manifest fetches done")
        await asyncio.sleep(1)
        connected_rss = rss_kb(server.pid)
        result = await propagate(admin, workers, playlist, "51", n, timeout_s=max(30, n / 100))
        _spread(result)
        _note(f"hub: push p99 {result['push_ms']['p99']} ms; restarting the server")
        stopped = time.time()
        server.stop()
        server.start()
        ready_after = time.time() - stopped
        back_s = await workers.wait_ready(n, 90, since=stopped)
        _note(f"hub: all back {back_s:.1f} s after the restarted server was ready")
        await _drained(workers, 120)
    finally:
        counts = (await workers.stop())["counts"]
        await admin.close()
    return {
        "terminals": n,
        "connect_s": round(connect_s, 2),
        "server_sees_all_online": online,
        "memory_per_terminal_kb": round((connected_rss - idle_rss) / n, 2),
        "server_rss_mb": {"idle": idle_rss // 1024, "connected": connected_rss // 1024},
        **{k: v for k, v in result.items() if k != "lagging"},
        "restart": {
            "server_down_to_ready_s": round(ready_after, 2),
            "all_back_after_ready_s": round(back_s, 2),
            "all_back_s": round(ready_after + back_s, 2),
        },
        "client_counts": counts,
    }


async def _mqtt_phase(
    server: Server, broker: Broker, credentials: list[Credential]
) -> dict[str, Any]:
    n = len(credentials)
    admin = await _admin(server)
    playlist = await admin.programme("51")
    publisher = MqttFleet(broker, _NoDirectory(), _no_presence, _Clock())
    workers = Workers(
        "mqtt",
        Endpoint(broker.host, broker.port),
        Endpoint("127.0.0.1", server.port),
        credentials,
        default_processes(n),
        max_connecting=96,  # mosquitto listens with a backlog of 100
    )
    try:
        await publisher.start()
        started = time.monotonic()
        await workers.start()
        await workers.wait_ready(n, 120)
        connect_s = time.monotonic() - started
        _note(f"mqtt: {n} screens connected in {connect_s:.1f} s")
        online = await wait_online(admin, n, 60)
        await _drained(workers, 180)
        async with asyncio.timeout(10):
            await publisher.connected()
        region = await region_message(workers, publisher.publish_region, "510000", n)
        _note(f"mqtt: region message p99 {region['latency_ms']['p99']} ms")
        manifest = await propagate(admin, workers, playlist, "51", n, timeout_s=max(30, n / 100))
        _spread(manifest)
    finally:
        counts = (await workers.stop())["counts"]
        await publisher.stop()
        await admin.close()
    return {
        "terminals": n,
        "connect_s": round(connect_s, 2),
        "server_sees_all_online": online,
        "region_message": region,
        "manifest": {k: v for k, v in manifest.items() if k != "lagging"},
        "client_counts": counts,
    }


class _NoDirectory:
    async def by_token(self, token: str) -> None:
        return None

    async def by_ids(self, terminal_ids: object) -> dict[str, Any]:
        return {}


async def _no_presence(seen: list[tuple[str, datetime]]) -> None:
    return None


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Mosquitto:
    def __init__(self, root: Path, credentials: list[Credential]) -> None:
        self.port = free_port()
        passwords, acl, conf = root / "passwd", root / "acl", root / "mosquitto.conf"
        mosquitto.write_password_file(
            passwords, [SERVER_ACCOUNT, *((c.terminal_id, c.token) for c in credentials)]
        )
        mosquitto.write_acl(acl, SERVER_ACCOUNT[0])
        user = "root" if os.geteuid() == 0 else None
        conf.write_text(mosquitto.config(self.port, passwords, acl, user=user))
        self.process = subprocess.Popen(["mosquitto", "-c", str(conf)], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port)).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def broker(self) -> Broker:
        return Broker("127.0.0.1", self.port, *SERVER_ACCOUNT)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def _anchor(kind: str, count: int) -> dict[str, Any]:
    run = anchors.ws_anchor if kind == "ws" else anchors.mqtt_anchor
    latencies = run(count, default_processes(count), free_port())
    return {"clients": count, "received": len(latencies), "latency_ms": percentiles(latencies)}


def _ratio(ours: float | None, raw: float | None) -> float | None:
    return round(ours / raw, 2) if ours and raw else None


def run(size: int, data_dir: Path | None, **options: Any) -> dict[str, Any]:
    """Seed, serve, simulate, measure; returns the result line."""
    # stdout carries the one result line: the in-process MQTT client logs to stderr
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="lianbo-bench-fleet-"))
    settings = Settings(data_dir=data_dir)
    total = size + size // 2
    credentials = asyncio.run(_seed(settings, total))
    _note(f"seeded {total} screens in {data_dir}")
    fast = {"LIANBO_LOGIN_FAILURES_PER_MINUTE": "1000"}
    hub_server = Server(data_dir, fast)
    try:
        hub_server.start()
        hub = asyncio.run(_hub_phase(hub_server, credentials[:size]))
    finally:
        hub_server.stop()
    asyncio.run(_all_offline(settings))
    broker = Mosquitto(data_dir, credentials)
    mqtt_env = fast | {
        "LIANBO_FLEET": "mqtt",
        "LIANBO_MQTT_PORT": str(broker.port),
        "LIANBO_MQTT_USERNAME": SERVER_ACCOUNT[0],
        "LIANBO_MQTT_PASSWORD": SERVER_ACCOUNT[1],
    }
    mqtt_server = Server(data_dir, mqtt_env)
    mqtt_server.runs = hub_server.runs
    try:
        mqtt_server.start()
        mqtt = asyncio.run(_mqtt_phase(mqtt_server, broker.broker(), credentials))
    finally:
        mqtt_server.stop()
        broker.stop()
    _note("raw anchors")
    raw_ws, raw_mqtt = _anchor("ws", size), _anchor("mqtt", total)
    errors = mqtt_server.errors()
    hub["restart"]["server_errors"] = len(errors)
    return {
        "bench": "fleet",
        "size": size,
        "hub": hub,
        "mqtt": mqtt,
        "anchors": {"ws": raw_ws, "mqtt": raw_mqtt},
        "ratios": {
            "hub_push_p99_over_raw_ws_p99": _ratio(
                hub["push_ms"]["p99"], raw_ws["latency_ms"]["p99"]
            ),
            "hub_fanout_spread_over_raw_ws_p99": _ratio(
                hub["fanout_spread_ms"], raw_ws["latency_ms"]["p99"]
            ),
            "mqtt_region_p99_over_raw_mqtt_p99": _ratio(
                mqtt["region_message"]["latency_ms"]["p99"], raw_mqtt["latency_ms"]["p99"]
            ),
        },
        "server_errors": errors[:5],
        "targets": {
            "push_p99_ms": 1000,
            "restart_all_back_s": 60,
            "region_p99_ms": 1000,
            "memory_per_terminal_kb": 20,
            "ratio": 2,
        },
        "cpus": os.cpu_count(),
    }
