"""A real ``lianbo serve`` subprocess for benchmarks, started and stopped."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import seed
from bench.harness.ports import free_port


@dataclass(frozen=True, slots=True)
class Server:
    port: int
    pid: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def admin_token(self) -> str:
        """A bearer token for the seeded benchmark admin."""
        response = httpx.post(
            f"{self.base}/api/v1/auth/token",
            json={"username": "bench", "password": seed.PASSWORD},
        )
        response.raise_for_status()
        return str(response.json()["token"])


@contextmanager
def served(data_dir: Path, **settings: str) -> Iterator[Server]:
    """``lianbo serve`` on a free port over ``data_dir`` until the block ends."""
    port = free_port()
    env = os.environ | {"LIANBO_DATA_DIR": str(data_dir)}
    env |= {f"LIANBO_{k.upper()}": v for k, v in settings.items()}
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("lianbo")), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_ready(port, process)
        yield Server(port, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("server exited during start-up")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("server did not become ready")
