"""Benchmark ``monitoring``: ingest through the real endpoints, alarm latency.

Issue 7 targets on the 2-core machine, SQLite: ≥ 10,000 heartbeats/s and
≥ 20,000 play-log rows/s ingested; ≥ 200 screenshot verifications/s (1080p
JPEG); content-mismatch alarm ≤ 10 s after a hijack begins at a 5 s
screenshot interval; offline alarm ≤ 2 heartbeat intervals.

Throughput runs against a real ``lianbo serve`` subprocess over loopback:
heartbeats and play logs from raw keep-alive HTTP clients (httpx costs more
CPU per request than the server; see ``loadgen.py``) in ``clients``
processes, one token per terminal, so the per-terminal rate limit is
respected (each of ``size`` terminals may send a burst of 3, then one per
2 s); screenshots with httpx (multipart). Only 2xx answers count. Then
heartbeats the way connected screens send them, as ``status`` messages on
their sockets (``socket_beats.py``). The figures include the load
generators sharing the same two cores.

Latencies are computed with the real services over the same database and
a fake clock (in-process app, real verification): a screen dies at a random
phase between heartbeats and the clock jumps from event to event, the
heartbeats on the half minute and the sweeper's own wake-ups
(``Monitor.next_sweep_at``: just after the earliest hold-off runs out, at
most ``SWEEP_S`` apart), so the figure is the schedule's; the processing
time after a wake-up (tens of ms) is not in it; a hijack starts at a random
phase between screenshots.
"""

from __future__ import annotations

import asyncio
import io
import json
import multiprocessing
import os
import platform
import random
import secrets
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update
from tests.integration.monitoring import corpus

from bench import seed, socket_beats
from bench.server import Server, served
from lianbo.adapters.db.tables import TerminalRow
from lianbo.bootstrap import bootstrap
from lianbo.config import Settings
from lianbo.domain.monitoring.alarms import AlarmType
from lianbo.domain.roles import Role
from lianbo.domain.tokens import digest
from lianbo.domain.users import SYSTEM
from lianbo.services import presence, users
from lianbo.services.monitoring import SWEEP_S
from lianbo.services.setup import initialise

SETTLE_S = 3.0  # a measured phase starts once the previous one's writes are done
DEFAULT_SIZE = 10_000  # terminals, each with its own token (the rate limit allows 0.5/s each)
COUNTY = "510107"
SECONDS = 5.0
_OFFLINE = AlarmType.OFFLINE
# What an agent reports (player/agent.py status): clock and cache feed alarm rules.
STATUS = {
    "push": "polling",
    "backend": "headless",
    "clock_offset_ms": 3.5,
    "cache": {"bytes": 10**9, "budget": 8 * 10**9, "files": 12, "failures": {}},
}


# ------------------------------------------------------------------- setup

REVIEWERS = ("b-reviewer-1", "b-reviewer-2", "b-reviewer-3")


async def _seed(settings: Settings, size: int) -> list[tuple[str, str]]:
    """Terminals in one county, each with a token, plus users; (terminal id, token)."""
    container = bootstrap(settings)
    await initialise(container)
    await seed.admin(container)
    made = await seed.terminals(container, size, [COUNTY])
    tokens = [(t.id, secrets.token_urlsafe(24)) for t in made]
    async with container.uow() as uow:
        for name, role in [("b-operator", Role.OPERATOR), *((r, Role.REVIEWER) for r in REVIEWERS)]:
            await users.create_user(
                uow,
                container.clock,
                SYSTEM,
                username=name,
                password=seed.PASSWORD,
                role=role,
                region="51",
            )
        for terminal_id, token in tokens:
            await uow.session.execute(
                update(TerminalRow)
                .where(TerminalRow.id == terminal_id)
                .values(token_hash=digest(token), status="offline")
            )
        await uow.commit()
    await container.close()
    return tokens


def _login(server: Server, username: str) -> dict[str, str]:
    answer = httpx.post(
        f"{server.base}/api/v1/auth/token", json={"username": username, "password": seed.PASSWORD}
    )
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def _programme(server: Server, picture: bytes) -> dict[str, Any]:
    """Upload, approve and schedule one 1080p picture on the county; the asset."""
    operator = _login(server, "b-operator")
    with httpx.Client(base_url=server.base, timeout=60) as client:
        asset: dict[str, Any] = client.post(
            "/api/v1/assets", files={"file": ("bench.png", picture, "image/png")}, headers=operator
        ).json()
        client.post(f"/api/v1/assets/{asset['id']}/submit", headers=operator)
        for reviewer in REVIEWERS:
            client.post(
                f"/api/v1/assets/{asset['id']}/review",
                json={"decision": "approve"},
                headers=_login(server, reviewer),
            )
        listed = client.post(
            "/api/v1/playlists",
            json={"name": "bench", "items": [{"asset_id": asset["id"], "duration_ms": 10000}]},
            headers=operator,
        ).json()
        now = datetime.now(UTC)
        schedule = client.post(
            "/api/v1/schedules",
            json={
                "name": "bench",
                "playlist_id": listed["id"],
                "targets": {"regions": [COUNTY]},
                "starts_at": (now - timedelta(hours=2)).isoformat(),
                "ends_at": (now + timedelta(days=2)).isoformat(),
                "priority": "local",
            },
            headers=operator,
        ).json()
        client.post(f"/api/v1/schedules/{schedule['id']}/publish", headers=operator)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the server's QC worker analyses it
            state = client.get(f"/api/v1/assets/{asset['id']}", headers=operator).json()
            if state.get("qc_status") not in ("pending", "running"):
                break
            time.sleep(0.5)
    return asset


# --------------------------------------------------------- load generators


def _request(port: int, path: str, token: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _connection(
    port: int, requests: list[bytes], deadline: float, counts: dict[int, int], once: bool
) -> None:
    """Send ``requests`` in turn until ``deadline`` (or each once, ``once``)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    try:
        index = 0
        while (index < len(requests)) if once else (time.perf_counter() < deadline):
            writer.write(requests[index % len(requests)])
            index += 1
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            counts[status] = counts.get(status, 0) + 1
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    await reader.readexactly(int(line[15:]))
    finally:
        writer.close()


def _hammer(
    port: int, requests: list[bytes], connections: int, seconds: float, once: bool
) -> dict[int, int]:
    """One load process: ``connections`` keep-alive clients sharing ``requests``."""

    async def main() -> dict[int, int]:
        counts: dict[int, int] = {}
        deadline = time.perf_counter() + seconds
        shares = [requests[i::connections] for i in range(connections)]
        await asyncio.gather(
            *(_connection(port, share, deadline, counts, once) for share in shares if share)
        )
        return counts

    return asyncio.run(main())


def _load(
    port: int,
    requests: list[bytes],
    processes: int,
    connections: int,
    seconds: float,
    once: bool = False,
) -> tuple[float, dict[int, int]]:
    """Requests spread over ``processes``; (seconds taken, answers by status).
    ``once``: each request sent once (a warm-up), whatever ``seconds``."""
    chunks = [requests[i::processes] for i in range(processes)]
    started = time.perf_counter()
    # spawn, not fork: the caller may have threads (a test run's moto server,
    # asyncio's executor) and a forked child can inherit a lock one of them
    # held -- a load process hung that way once, and the pool's exit with it.
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        results = pool.starmap(_hammer, [(port, c, connections, seconds, once) for c in chunks])
    total: dict[int, int] = {}
    for counts in results:
        for status, n in counts.items():
            total[status] = total.get(status, 0) + n
    return time.perf_counter() - started, total


def _heartbeats(
    port: int, tokens: list[tuple[str, str]], options: dict[str, Any]
) -> dict[str, Any]:
    body = json.dumps(STATUS).encode()
    requests = [_request(port, "/terminal/v1/heartbeat", t, body) for _, t in tokens]
    seconds = float(options.get("seconds", SECONDS))
    clients, connections = int(options.get("clients", 2)), int(options.get("connections", 32))
    # Warm-up: one beat per screen, as in a fleet already running (the token
    # and terminal caches know every screen that beat in the last minute).
    _load(port, requests, clients, connections, 0.0, once=True)
    _, counts = _load(port, requests, clients, connections, seconds)
    return {
        "heartbeats_per_s": round(counts.get(200, 0) / seconds, 1),
        "heartbeats_rate_limited_per_s": round(counts.get(429, 0) / seconds, 1),
        "heartbeat_answers": {str(k): v for k, v in sorted(counts.items())},
    }


def _playlog(
    port: int, tokens: list[tuple[str, str]], sha256: str, options: dict[str, Any]
) -> dict[str, Any]:
    now = datetime.now(UTC)
    batch = int(options.get("batch", 500))
    entries = [
        {
            "sha256": sha256,
            "schedule_id": None,
            "started_at": (now - timedelta(seconds=10 * (k + 1))).isoformat(),
            "ended_at": (now - timedelta(seconds=10 * k)).isoformat(),
        }
        for k in range(batch)
    ]
    body = json.dumps({"entries": entries}).encode()
    requests = [_request(port, "/terminal/v1/playlog", t, body) for _, t in tokens[:200]]
    seconds = float(options.get("seconds", SECONDS))
    _, counts = _load(port, requests, int(options.get("clients", 2)), 4, seconds)
    return {
        "playlog_rows_per_s": round(counts.get(200, 0) * batch / seconds, 1),
        "playlog_batch": batch,
        "playlog_answers": {str(k): v for k, v in sorted(counts.items())},
    }


def _shot_request(port: int, token: str, shot: bytes, taken_at: str) -> bytes:
    """One multipart screenshot upload, encoded once (the load generator
    must not spend the cores on encoding what the server measures)."""
    boundary = "lianbo-bench-" + secrets.token_hex(8)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="taken_at"\r\n\r\n'
            f'{taken_at}\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="s.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()
        + shot
        + f"\r\n--{boundary}--\r\n".encode()
    )
    head = (
        f"POST /terminal/v1/screenshot HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _verdicts(server: Server) -> dict[str, float]:
    """Screenshots verified so far, by verdict (the server's /metrics)."""
    text = httpx.get(f"{server.base}/metrics", timeout=30).text
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("lianbo_screenshots_verified_total{"):
            verdict = line.split('verdict="', 1)[1].split('"', 1)[0]
            found[verdict] = float(line.rsplit(" ", 1)[1])
    return found


def _screenshots(
    server: Server, tokens: list[tuple[str, str]], shot: bytes, options: dict[str, Any]
) -> dict[str, Any]:
    """Keep-alive uploads from ``clients`` processes × 8 connections, one
    terminal per connection; verdicts counted by the server."""
    seconds = float(options.get("seconds", SECONDS))
    processes = int(options.get("clients", 2))
    taken_at = datetime.now(UTC).isoformat()
    requests = [_shot_request(server.port, t, shot, taken_at) for _, t in tokens[: 8 * processes]]
    before = _verdicts(server)
    _, counts = _load(server.port, requests, processes, 8, seconds)
    after = _verdicts(server)
    verdicts = {v: int(n - before.get(v, 0)) for v, n in after.items() if n > before.get(v, 0)}
    return {
        "screenshot_verifications_per_s": round(counts.get(200, 0) / seconds, 1),
        "screenshot_answers": {str(k): v for k, v in sorted(counts.items())},
        "screenshot_verdicts": verdicts,
    }


# ----------------------------------------------------- latency (fake clock)

HEARTBEAT_S = 30
SHOT_EVERY_S = 5


async def _offline_latency(env: Any, tokens: list[tuple[str, str]], trials: int) -> list[float]:
    """Seconds from a screen going dark to its offline alarm, per trial (the
    clock jumps to the next heartbeat or the sweeper's next wake-up)."""
    client, clock, monitor = env
    rng = random.Random(7)
    deaths = {tid: HEARTBEAT_S * 2 + rng.uniform(0, HEARTBEAT_S) for tid, _ in tokens[:trials]}
    start = clock.now()
    alarms: dict[str, float] = {}
    next_beat = next_sweep = elapsed = 0.0
    while len(alarms) < len(deaths) and elapsed < 10 * HEARTBEAT_S:
        elapsed = min(next_beat, next_sweep)
        clock.current = start + timedelta(seconds=elapsed)
        if elapsed == next_beat:  # every living screen beats on the half minute
            for terminal_id, token in tokens[:trials]:
                if elapsed < deaths[terminal_id]:
                    await client.post(
                        "/terminal/v1/heartbeat", headers={"Authorization": f"Bearer {token}"}
                    )
            next_beat += HEARTBEAT_S
        if elapsed == next_sweep:  # the sweeper wakes when it said it would
            await monitor.sweep()
            for terminal_id in deaths:
                if terminal_id not in alarms and monitor.desk.live(terminal_id, _OFFLINE):
                    alarms[terminal_id] = elapsed - deaths[terminal_id]
            next_sweep = (monitor.next_sweep_at() - start).total_seconds()
    return list(alarms.values())


async def _mismatch_latency(
    env: Any, tokens: list[tuple[str, str]], good: bytes, bad: bytes, trials: int
) -> list[float]:
    """Seconds from a hijack beginning to the content-mismatch alarm, per trial."""
    client, clock, _ = env
    rng = random.Random(11)
    found = []
    for _, token in tokens[:trials]:
        hijack = 2 * SHOT_EVERY_S + rng.uniform(0, SHOT_EVERY_S)
        start = clock.now()
        for shot in range(12):
            at = shot * SHOT_EVERY_S
            clock.current = start + timedelta(seconds=at)
            answer = await client.post(
                "/terminal/v1/screenshot",
                files={"file": ("s.jpg", bad if at >= hijack else good, "image/jpeg")},
                data={"taken_at": clock.now().isoformat()},
                headers={"Authorization": f"Bearer {token}"},
            )
            if answer.json().get("alarms"):
                found.append(at - hijack)
                break
        clock.current = start + timedelta(minutes=10)
    return found


async def _latencies(
    settings: Settings, tokens: list[tuple[str, str]], good: bytes, bad: bytes, trials: int
) -> dict[str, Any]:
    from tests.support.clock import FakeClock

    from lianbo.api.app import create_app

    clock = FakeClock()
    container = bootstrap(settings, clock=clock)
    app = create_app(container=container)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        env = (client, clock, container.monitor)
        offline = await _offline_latency(env, tokens[-trials:], trials)
        mismatch = await _mismatch_latency(env, tokens[:trials], good, bad, trials)
    await container.close()
    interval = HEARTBEAT_S
    return {
        "offline_alarm_latency_max_s": round(max(offline), 2) if offline else None,
        "offline_alarm_latency_mean_s": round(sum(offline) / len(offline), 2) if offline else None,
        "offline_alarm_latency_max_intervals": round(max(offline) / interval, 3)
        if offline
        else None,
        "offline_trials": len(offline),
        "content_mismatch_alarm_latency_max_s": round(max(mismatch), 2) if mismatch else None,
        "content_mismatch_alarm_latency_mean_s": round(sum(mismatch) / len(mismatch), 2)
        if mismatch
        else None,
        "content_mismatch_trials": len(mismatch),
        "screenshot_interval_s": SHOT_EVERY_S,
    }


# ------------------------------------------------- services (no HTTP stack)


async def _services(
    settings: Settings, tokens: list[tuple[str, str]], sha256: str, shot: bytes, seconds: float
) -> dict[str, Any]:
    """The same ingest through ``container.monitor`` in-process, without HTTP:
    what the services cost apart from the web stack."""
    container = bootstrap(settings)
    monitor = container.monitor
    monitor.batching = True
    callers = [await monitor.callers.caller(container, token) for _, token in tokens[:2000]]
    started = time.perf_counter()
    beats = 0
    while time.perf_counter() - started < seconds:
        for caller in callers:
            monitor.limiter._buckets.pop(caller.screen.id, None)  # measure ingest, not the limit
            await monitor.heartbeat(caller.screen.id, STATUS)
        await monitor.flush()
        beats += len(callers)
    beat_rate = beats / (time.perf_counter() - started)
    now = datetime.now(UTC)
    entries = [
        {
            "sha256": sha256,
            "schedule_id": None,
            "started_at": (now - timedelta(seconds=10 * (k + 1))).isoformat(),
            "ended_at": (now - timedelta(seconds=10 * k)).isoformat(),
        }
        for k in range(500)
    ]
    started, rows = time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        rows += (
            await monitor.playlog(container, callers[rows // 500 % len(callers)], entries)
        ).accepted
    row_rate = rows / (time.perf_counter() - started)
    started, shots = time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        await monitor.screenshot(
            container, callers[shots % len(callers)], shot, datetime.now(UTC), "framebuffer"
        )
        shots += 1
    shot_rate = shots / (time.perf_counter() - started)
    await container.close()
    return {
        "service_heartbeats_per_s": round(beat_rate, 1),
        "service_playlog_rows_per_s": round(row_rate, 1),
        "service_screenshots_per_s": round(shot_rate, 1),
    }


# --------------------------------------------------------------------- run


def run(size: int, data_dir: Path | None = None, **options: Any) -> dict[str, Any]:
    """Measure; see the module docstring. Options: ``seconds`` per throughput
    run, ``clients`` (load processes), ``connections`` per process, ``batch``
    (play-log rows per request), ``trials`` (latency runs)."""
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="lianbo-bench-monitoring-"))
    settings = Settings(data_dir=data_dir)
    tokens = asyncio.run(_seed(settings, size))
    picture = corpus.picture(0)
    png = io.BytesIO()
    picture.save(png, "PNG")
    good = corpus.jpeg(picture, 80)
    bad = corpus.jpeg(corpus.picture(1), 80)
    figures: dict[str, Any] = {"terminals": size}
    with served(data_dir) as server:
        asset = _programme(server, png.getvalue())
        figures |= _heartbeats(server.port, tokens, options)
        time.sleep(SETTLE_S)  # the heartbeats' batched writes finish before the next phase
        figures |= _playlog(server.port, tokens, str(asset["sha256"]), options)
        time.sleep(SETTLE_S)
        figures |= _screenshots(server, tokens, good, options)
        time.sleep(2 * presence.MIN_INTERVAL_S * presence.BURST)  # rate-limit buckets refill
        figures |= socket_beats.measure(
            server.port, settings.sqlite_path, [t for _, t in tokens], STATUS, processes=2
        )
    seconds = float(options.get("seconds", SECONDS))
    figures |= asyncio.run(_services(settings, tokens, str(asset["sha256"]), good, seconds))
    trials = int(options.get("trials", 10))
    figures |= asyncio.run(_latencies(settings, tokens, good, bad, min(trials, len(tokens) // 2)))
    figures |= {
        "sweep_s": SWEEP_S,
        "hold_off_s": settings.offline_hold_off_seconds,
        "machine": f"{platform.machine()} {os.cpu_count()} cpu",
    }
    return figures
