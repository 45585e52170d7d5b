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
2 s); screenshots with httpx (multipart). Only 2xx answers count. The
figures include the load generators sharing the same two cores.

Latencies are computed with the real services over the same database and
a fake clock driven second by second (in-process app, real verification):
a screen dies at a random phase between heartbeats, the server sweeps
every ``SWEEP_S``; a hijack starts at a random phase between screenshots.
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

from bench import seed
from bench.server import Server, served
from lianbo.adapters.db.tables import TerminalRow
from lianbo.bootstrap import bootstrap
from lianbo.config import Settings
from lianbo.domain.roles import Role
from lianbo.domain.tokens import digest
from lianbo.domain.users import SYSTEM
from lianbo.services import users
from lianbo.services.setup import initialise

DEFAULT_SIZE = 10_000  # terminals (each with its own token)
COUNTY = "510107"
SECONDS = 5.0


# ------------------------------------------------------------------- setup


async def _seed(settings: Settings, size: int) -> list[tuple[str, str]]:
    """Terminals in one county with tokens, plus users; (terminal id, token)."""
    container = bootstrap(settings)
    await initialise(container)
    await seed.admin(container)
    made = await seed.terminals(container, size, [COUNTY])
    tokens = [(t.id, secrets.token_urlsafe(24)) for t in made]
    async with container.uow() as uow:
        for role in (Role.OPERATOR, Role.REVIEWER, Role.REVIEWER, Role.REVIEWER):
            await users.create_user(
                uow, container.clock, SYSTEM, username=f"b-{role.value}-{secrets.token_hex(3)}",
                password=seed.PASSWORD, role=role, region="51",
            )
        for terminal_id, token in tokens:
            await uow.session.execute(
                update(TerminalRow)
                .where(TerminalRow.id == terminal_id)
                .values(token_hash=digest(token), status="online", last_seen_at=datetime.now(UTC))
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


def _programme(server: Server, settings: Settings, picture: bytes) -> str:
    """Upload, approve and schedule one 1080p picture; its sha256 once analysed."""
    names = asyncio.run(_usernames(settings))
    operator = _login(server, names["operator"])
    with httpx.Client(base_url=server.base, timeout=60) as client:
        asset = client.post(
            "/api/v1/assets", files={"file": ("bench.png", picture, "image/png")}, headers=operator
        ).json()
        client.post(f"/api/v1/assets/{asset['id']}/submit", headers=operator)
        for reviewer in names["reviewers"]:
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
                "name": "bench", "playlist_id": listed["id"], "targets": {"regions": [COUNTY]},
                "starts_at": (now - timedelta(hours=2)).isoformat(),
                "ends_at": (now + timedelta(days=2)).isoformat(), "priority": "local",
            },
            headers=operator,
        ).json()
        client.post(f"/api/v1/schedules/{schedule['id']}/publish", headers=operator)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the server's QC worker computes the track
            state = client.get(f"/api/v1/assets/{asset['id']}", headers=operator).json()
            if state.get("qc_status") not in ("pending", "running"):
                break
            time.sleep(0.5)
    return str(asset["sha256"])


async def _usernames(settings: Settings) -> dict[str, Any]:
    container = bootstrap(settings)
    async with container.uow() as uow:
        found, _ = await uow.users.search(limit=100, offset=0) if hasattr(uow.users, "search") else ([], 0)
    await container.close()
    names = [u.username for u in found]
    return {
        "operator": next(n for n in names if n.startswith("b-operator")),
        "reviewers": [n for n in names if n.startswith("b-reviewer")],
    }
