"""Roles as real processes on PostgreSQL: an API process (``LIANBO_ROLE=api``)
queues QC and never runs it; a ``lianbo worker`` runs it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.metrics import value
from tests.support.services import free_port
from tests.support.waiting import until

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

LIANBO = str(Path(sys.executable).with_name("lianbo"))
PASSWORD = "correct-horse-9"


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        running = subprocess.Popen([LIANBO, *args], env=os.environ | env, stdout=out, stderr=out)
        try:
            yield running
        finally:
            running.terminate()
            running.wait(timeout=60)


def add_admin(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = ["user", "add", "admin", "--role", "admin", "--region", "51", "--password", PASSWORD]
    return subprocess.run(
        [LIANBO, *command], env=os.environ | env, capture_output=True, text=True, timeout=120
    )


async def _asset(client: httpx.AsyncClient, asset_id: str, headers: dict[str, str]) -> Any:
    try:
        return (await client.get(f"/api/v1/assets/{asset_id}", headers=headers)).json()
    except httpx.TransportError:
        return {}


async def test_an_api_process_queues_qc_and_a_worker_runs_it(pg_url: str, tmp_path: Path) -> None:
    base = {"LIANBO_DATABASE_URL": pg_url, "LIANBO_JOB_LEASE_SECONDS": "3"}
    added = await asyncio.to_thread(add_admin, base | {"LIANBO_DATA_DIR": str(tmp_path / "cli")})
    assert added.returncode == 0, added.stderr
    port = free_port()
    api_env = base | {"LIANBO_ROLE": "api", "LIANBO_DATA_DIR": str(tmp_path / "api")}
    worker_env = base | {"LIANBO_DATA_DIR": str(tmp_path / "worker")}
    url = f"http://127.0.0.1:{port}"
    with process(["serve", "--port", str(port)], api_env, tmp_path / "api.log"):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:

            async def up() -> bool:
                try:
                    return (await client.get("/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await until(up, "the API process is up")
            token = await client.post(
                "/api/v1/auth/token", json={"username": "admin", "password": PASSWORD}
            )
            headers = {"Authorization": f"Bearer {token.json()['token']}"}
            created = await client.post(
                "/api/v1/assets",
                json={"kind": "ticker", "name": "广告", "text": "线上赌博平台"},
                headers=headers,
            )
            assert created.status_code == 201, created.text
            asset_id = created.json()["id"]
            assert (await _asset(client, asset_id, headers))["qc_status"] == "pending"
            with process(["worker"], worker_env, tmp_path / "worker.log"):

                async def screened() -> bool:
                    return (await _asset(client, asset_id, headers)).get("qc_status") == "passed"

                await until(screened, "the worker ran QC")
            detail = await _asset(client, asset_id, headers)
    assert [h["word"] for h in detail["screening"]["hits"]] == ["赌博"]


async def test_a_worker_answers_metrics_and_health_and_stops_cleanly(
    pg_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        "LIANBO_DATABASE_URL": pg_url,
        "LIANBO_DATA_DIR": str(tmp_path / "worker"),
        "LIANBO_PROCESS_NAME": "worker-1",
    }
    args = ["worker", "--metrics-port", str(port)]
    with process(args, env, tmp_path / "worker.log") as worker:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:

            async def ready() -> bool:
                try:
                    return (await client.get("/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await until(ready, "the worker is ready (store and bus)")
            text = (await client.get("/metrics")).text
            assert (await client.get("/api/v1/assets")).status_code == 404  # no API here
        worker.terminate()
        assert await asyncio.to_thread(worker.wait, 60) == 0
    assert value(text, "lianbo_jobs_pending", process="worker-1") == 0
    assert value(text, "lianbo_bus_connected", process="worker-1") == 1
