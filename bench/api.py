"""Benchmark ``api``: terminal list latency at scale and bulk CSV import.

Issue 2 targets, with 100,000 terminals in SQLite: a filtered page of 100
terminals in under 30 ms median through HTTP; a CSV import of 10,000
terminals in under 10 s. The server runs as a real ``lianbo serve``
subprocess; requests go over loopback HTTP.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import seed
from bench.server import served
from lianbo.bootstrap import bootstrap
from lianbo.config import Settings
from lianbo.services.setup import initialise

DEFAULT_SIZE = 100_000  # what `lianbo bench` uses without --size


async def _seed(settings: Settings, size: int) -> list[str]:
    """Fill the store directly (setup is not what we measure)."""
    container = bootstrap(settings)
    await initialise(container)
    places = await seed.counties(container)
    await seed.admin(container)
    await seed.terminals(container, size, places)
    await container.close()
    return places


def _pages(client: httpx.Client, counties: list[str], requests: int) -> list[float]:
    rng = random.Random(3)
    filters: list[dict[str, Any]] = [
        {"region": "5101", "tier": "outdoor"},
        {"region": "51", "status": "online"},
        {"tier": "home", "tag": "stb"},
        {"region": "51"},
    ]
    latencies = []
    for i in range(requests):
        params = dict(filters[i % len(filters)])
        if i % 5 == 0:
            params = {"region": rng.choice(counties), "tier": "hall"}
        params |= {"limit": 100, "offset": rng.randrange(0, 10) * 100}
        started = time.perf_counter()
        response = client.get("/api/v1/terminals", params=params)
        latencies.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return latencies


def _import(client: httpx.Client, counties: list[str], rows: int) -> float:
    lines = ["name,tier,region,latitude,longitude,tags,groups"]
    lines += [
        f"import-{i:06d},home,{counties[i % len(counties)]},30.5,104.1,stb,bench"
        for i in range(rows)
    ]
    started = time.perf_counter()
    response = client.post(
        "/api/v1/terminals/import",
        content="\n".join(lines).encode(),
        headers={"content-type": "text/csv"},
        timeout=120,
    )
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    assert response.json()["created"] == rows
    return elapsed


def run(size: int, data_dir: Path | None, import_rows: int = 10_000) -> dict[str, Any]:
    """Seed ``size`` terminals, serve, measure; returns the result line."""
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="lianbo-bench-"))
    settings = Settings(data_dir=data_dir)
    counties = asyncio.run(_seed(settings, size))
    with served(data_dir) as server:
        headers = {"Authorization": f"Bearer {server.admin_token()}"}
        with httpx.Client(base_url=server.base, headers=headers) as client:
            _pages(client, counties, 20)  # warm-up
            latencies = _pages(client, counties, 200)
            import_seconds = _import(client, counties, min(import_rows, max(size, 100)))
    latencies.sort()
    return {
        "bench": "api",
        "terminals": size,
        "page_ms_p50": round(statistics.median(latencies), 2),
        "page_ms_p95": round(latencies[int(len(latencies) * 0.95) - 1], 2),
        "page_target_ms": 30,
        "import_rows": min(import_rows, max(size, 100)),
        "import_s": round(import_seconds, 2),
        "import_target_s": 10,
        "cpus": os.cpu_count(),
    }
