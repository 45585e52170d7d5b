"""SQLite is one process: a second server or worker on the same data dir
refuses to start in one line; commands that only read keep working."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.services import free_port
from tests.support.waiting import until

pytestmark = pytest.mark.integration

LIANBO = str(Path(sys.executable).with_name("lianbo"))


def lianbo(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LIANBO, *args],
        capture_output=True,
        text=True,
        env=os.environ | {"LIANBO_DATA_DIR": str(data_dir), "COLUMNS": "200"} | env,
        timeout=120,
    )


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A real ``lianbo serve`` on a SQLite data dir: (data dir, base URL)."""
    data_dir = tmp_path / "data"
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [LIANBO, "serve", "--port", str(port)],
        env=os.environ | {"LIANBO_DATA_DIR": str(data_dir)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield data_dir, f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()


async def _healthy(url: str) -> bool:
    try:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"{url}/healthz", timeout=1.0)).status_code == 200
    except httpx.TransportError:
        return False


def one_line_refusal(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


async def test_a_second_process_on_one_sqlite_data_dir_is_refused(
    serving: tuple[Path, str], tmp_path: Path
) -> None:
    data_dir, url = serving
    await until(lambda: _healthy(url), "the first server is up")

    second = await asyncio.to_thread(lianbo, "serve", "--port", str(free_port()), data_dir=data_dir)
    line = one_line_refusal(second)
    assert "another lianbo process" in line and "PostgreSQL" in line

    worker = await asyncio.to_thread(lianbo, "worker", data_dir=data_dir)
    assert "PostgreSQL" in one_line_refusal(worker)

    # Reading commands work beside the running server.
    backup = await asyncio.to_thread(lianbo, "backup", str(tmp_path / "backup"), data_dir=data_dir)
    assert backup.returncode == 0, backup.stderr
    verify = await asyncio.to_thread(lianbo, "audit", "verify", data_dir=data_dir)
    assert verify.returncode == 0 and "audit chain ok" in verify.stdout, verify.stderr
    assert await _healthy(url)


def test_a_role_other_than_all_on_sqlite_is_refused(tmp_path: Path) -> None:
    for role in ("api", "worker"):
        result = lianbo("serve", data_dir=tmp_path / "data", LIANBO_ROLE=role)
        line = one_line_refusal(result)
        assert f"role {role!r} needs PostgreSQL" in line
    assert not (tmp_path / "data" / "lianbo.db").exists()  # refused before touching the store
