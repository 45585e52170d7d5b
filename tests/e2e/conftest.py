"""A real ``lianbo serve`` in a subprocess, and a real Chromium to drive it.

The server runs exactly as operators run it (the console script, a fresh
data dir, users added with the CLI), so these tests see what people see.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.helpers import ADMIN, OPERATOR, REVIEWERS, Server
from tests.support.services import free_port, missing
from tests.support.waiting import HANG_GUARD_S

CHROMIUM = Path(os.environ.get("LIANBO_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
START_TIMEOUT = 120.0  # a loaded 2-core machine starts slowly; healthy servers answer at once


def _lianbo() -> Path:
    # The console script installed next to this interpreter (there is no
    # ``python -m lianbo``); it is what operators run.
    return Path(sys.executable).with_name("lianbo")


def _cli(*args: str, data_dir: Path) -> None:
    done = subprocess.run(
        [str(_lianbo()), *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"lianbo {' '.join(args)} failed: {done.stderr}"


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"lianbo serve exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"lianbo serve did not become healthy:\n{log.read_text()}")


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """Init a data dir, add an admin (51), an operator (510107) and three
    reviewers (51), serve it."""
    with tempfile.TemporaryDirectory(prefix="lianbo-e2e-") as tmp:
        data_dir = Path(tmp) / "data"
        _cli("init", data_dir=data_dir)
        users = (
            (ADMIN, "admin", "51"),
            (OPERATOR, "operator", "510107"),
            *((reviewer, "reviewer", "51") for reviewer in REVIEWERS),
        )
        for (name, password), role, region in users:
            _cli(
                "user",
                "add",
                name,
                "--role",
                role,
                "--region",
                region,
                "--password",
                password,
                data_dir=data_dir,
            )
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = Path(tmp) / "serve.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(_lianbo()), "serve", "--port", str(port), "--data-dir", str(data_dir)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            try:
                _wait_healthy(url, process, log)
                yield Server(url, data_dir)
            finally:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per module (Playwright cannot fetch its own).

    Not per session: while the sync API is open it marks its event loop as
    running, and the async tests that follow would refuse to start.
    """
    if not CHROMIUM.exists():
        missing(f"Chromium not found at {CHROMIUM}; install it (apt install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    """A fresh browser context (no cookies) per test."""
    context = browser.new_context(base_url=server.url, viewport={"width": 1440, "height": 900})
    context.set_default_timeout(HANG_GUARD_S * 1000)
    try:
        yield context.new_page()
    finally:
        context.close()
