"""Benchmark ``alerts``: an alert end to end against a real ``lianbo serve``.

N simulated screens (``lianbo.sim`` workers, seeded straight into the store
with tokens, spread over 20 counties of Sichuan) hold WebSockets to the
built-in hub. One Extreme alert for the whole province (no confirmation) is
issued over the API; measured:

- ``issue_request_ms``: the ``POST /api/v1/alerts`` round trip: checks,
  signing, targeting, N delivery rows, commit, the region publishes;
- ``push_ms``: per screen, push received minus the server's publish stamp
  (``sent_at`` in the push; same host, same clock);
- ``issue_to_last_receipt_ms_max``: an upper bound from the request's start
  to the last screen's receipt (request time + slowest push);
- the terminal path a reconnecting screen takes (``GET /terminal/v1/alerts``)
  and the delivery board read (``GET /api/v1/alerts/{id}``) with N rows;
- ack throughput: each screen's ``received`` ack posted over HTTP with
  ``ACK_BURST`` requests in flight (a fleet acks all at once: the server
  writes them in group commits, ADR 0017), then each screen's ``displayed``
  ack with ``ACK_CONCURRENCY`` in flight (the figure kept from before group
  commits); the simulated screens count pushes but do not ack themselves.
  Then the board must count all N displayed;
- acks over the channel (issue 15 §2): the screens are told to ack, a
  second alert is issued, and each screen acks it ``displayed`` up its
  socket (``alert-ack``) as it arrives; ``channel_all_displayed_s`` is the
  issue request's start → the board counting all N displayed.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.fleet import _seed  # the fleet benchmark's seeding: enrolled screens with tokens
from bench.server import served
from lianbo.config import Settings
from lianbo.sim.run import Endpoint, Workers, default_processes, percentiles
from lianbo.sim.screens import Credential

DEFAULT_SIZE = 2_000
ACK_CONCURRENCY = 32
ACK_BURST = 256


def _note(what: str) -> None:
    print(f"[alerts {time.strftime('%H:%M:%S')}] {what}", file=sys.stderr, flush=True)


def _alert_body() -> dict[str, Any]:
    return {
        "severity": "Extreme",
        "event": "地震",
        "headline": "地震预警（基准测试）",
        "description": "预计30秒后有强烈震感。",
        "instruction": "请立即就近避险。",
        "area": {"regions": ["51"]},
        "expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    }


async def _timed(call: Any) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = await call
    return (time.perf_counter() - started) * 1000, response


async def _receipts(
    workers: Workers, alert_id: str, expected: int, timeout_s: float
) -> list[float]:
    deadline = time.monotonic() + timeout_s
    while True:
        latencies = [x for part in await workers.call("alerts", alert_id) for x in part]
        if len(latencies) >= expected or time.monotonic() > deadline:
            return latencies
        await asyncio.sleep(0.05)


async def _channel_acks(
    client: httpx.AsyncClient, workers: Workers, n: int, timeout_s: float
) -> dict[str, Any]:
    """A second alert, acked ``displayed`` by every screen up its socket: how
    long until the board counts all N (None: not within ``timeout_s``)."""
    await workers.call("answer_alerts", True)
    started = time.perf_counter()
    response = await client.post("/api/v1/alerts", json=_alert_body())
    response.raise_for_status()
    alert_id = response.json()["id"]
    displayed, all_s = 0, None
    while time.perf_counter() - started < timeout_s:
        board = await client.get(f"/api/v1/alerts/{alert_id}")
        displayed = int(board.json()["counts"].get("displayed", 0))
        if displayed >= n:
            all_s = round(time.perf_counter() - started, 2)
            break
        await asyncio.sleep(0.05)
    _note(f"{displayed}/{n} acked displayed over the channel")
    return {"channel_all_displayed_s": all_s, "channel_displayed_counted": displayed}


def _ack_request(host: str, alert_id: str, token: str, state: str) -> bytes:
    body = json.dumps({"state": state, "at": datetime.now(UTC).isoformat()}).encode()
    head = (
        f"POST /terminal/v1/alerts/{alert_id}/ack HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _acks(
    port: int,
    alert_id: str,
    credentials: list[Credential],
    state: str = "displayed",
    concurrency: int = ACK_CONCURRENCY,
    refused: Counter[str] | None = None,
) -> float:
    """Post every screen's ``state`` ack over ``concurrency`` keep-alive
    connections, one request in flight on each; acks per second. Raw
    HTTP/1.1 as the simulator sends it: on two cores a Python HTTP client
    costs as much CPU per request as the server, and would be the limit.
    Answers other than 200 are counted in ``refused`` by status."""
    requests = [_ack_request(f"127.0.0.1:{port}", alert_id, c.token, state) for c in credentials]
    pending = iter(requests)
    refused = Counter() if refused is None else refused

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for request in pending:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)content-length: *(\d+)", head)
                await reader.readexactly(int(length.group(1)) if length else 0)
                if head[9:12] != b"200":
                    refused[f"{state}_{head[9:12].decode()}"] += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(min(concurrency, len(requests)))))
    return len(requests) / (time.perf_counter() - started)


async def _measure(
    base: str, port: int, token: str, credentials: list[Credential]
) -> dict[str, Any]:
    n = len(credentials)
    endpoint = Endpoint("127.0.0.1", port)
    workers = Workers(
        "hub", endpoint, endpoint, credentials, default_processes(n), fetch_on_hello=False
    )
    admin = {"Authorization": f"Bearer {token}"}
    try:
        await workers.start()
        connect_s = await workers.wait_ready(n, 120)
        _note(f"{n} screens connected in {connect_s:.1f} s")
        async with httpx.AsyncClient(base_url=base, timeout=120, headers=admin) as client:
            issue_ms, response = await _timed(client.post("/api/v1/alerts", json=_alert_body()))
            response.raise_for_status()
            alert = response.json()
            latencies = await _receipts(workers, alert["id"], n, max(30.0, n / 100))
            _note(f"{len(latencies)}/{n} screens received the push")
            screen = {"Authorization": f"Bearer {credentials[0].token}"}
            fetch_ms, fetched = await _timed(client.get("/terminal/v1/alerts", headers=screen))
            fetched.raise_for_status()
            board_ms, _ = await _timed(client.get(f"/api/v1/alerts/{alert['id']}"))
            refused: Counter[str] = Counter()
            burst_per_s = await _acks(
                port, alert["id"], credentials, "received", ACK_BURST, refused
            )
            acks_per_s = await _acks(port, alert["id"], credentials, refused=refused)
            counts = (await client.get(f"/api/v1/alerts/{alert['id']}")).json()["counts"]
            channel = await _channel_acks(client, workers, n, max(30.0, n / 100))
    finally:
        client_counts = (await workers.stop())["counts"]
    push = percentiles(latencies)
    return {
        "terminals": n,
        "connect_s": round(connect_s, 2),
        "targeted": alert["targeted"],
        "topics": len(alert["topics"]),
        "issue_request_ms": round(issue_ms, 1),
        "received": len(latencies),
        "push_ms": push,
        "issue_to_last_receipt_ms_max": round(issue_ms + (push["max"] or 0), 1),
        "terminal_fetch_ms": round(fetch_ms, 1),
        "board_read_ms": round(board_ms, 1),
        "acks_per_s": round(acks_per_s, 1),
        f"acks_per_s_{ACK_BURST}": round(burst_per_s, 1),
        "acks_refused": dict(refused),
        "displayed_counted": counts["displayed"],
        **channel,
        "client_counts": client_counts,
    }


def run(size: int, data_dir: Path | None, **options: Any) -> dict[str, Any]:
    """Seed, serve, connect N screens, issue one alert; the result line."""
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="lianbo-bench-alerts-"))
    credentials = asyncio.run(_seed(Settings(data_dir=data_dir), size))
    _note(f"seeded {size} screens in {data_dir}")
    with served(data_dir, login_failures_per_minute="1000") as server:
        result = asyncio.run(_measure(server.base, server.port, server.admin_token(), credentials))
    return {"bench": "alerts", "size": size, **result, "cpus": os.cpu_count()}
