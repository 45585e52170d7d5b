"""Upload throughput: a large file through ``POST /api/v1/assets`` into
local storage (streamed multipart, sha256 on the way), over loopback.

The file is a real PNG followed by zeros (Pillow reads the image and
ignores what trails it), so it passes the content-type check like any
upload and the measurement covers receive + hash + write + probe.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from bench import seed
from bench.loadgen import upload
from lianbo.bootstrap import bootstrap
from lianbo.config import Settings
from lianbo.services.setup import initialise


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 180), (20, 90, 160)).save(out, "PNG")
    return out.getvalue()


async def _prepare(settings: Settings) -> None:
    container = bootstrap(settings)
    await initialise(container)
    await seed.admin(container)
    await container.close()


def measure_upload(data_dir: Path, size_bytes: int) -> dict[str, Any]:
    """Upload ``size_bytes`` once; figures for the result line."""
    settings = Settings(data_dir=data_dir)
    asyncio.run(_prepare(settings))
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    lianbo = Path(sys.executable).with_name("lianbo")
    server = subprocess.Popen(
        [str(lianbo), "serve", "--port", str(port)],
        env=os.environ | {"LIANBO_DATA_DIR": str(data_dir)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        token = httpx.post(
            f"{base}/api/v1/auth/token", json={"username": "bench", "password": seed.PASSWORD}
        ).json()["token"]
        boundary = "lianbo-bench-boundary"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="big.png"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode() + _png()
        tail = f"\r\n--{boundary}--\r\n".encode()
        status, seconds = asyncio.run(
            upload(
                "127.0.0.1",
                port,
                "/api/v1/assets",
                {
                    "Authorization": f"Bearer {token}",
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                },
                [head, tail],
                size_bytes,
            )
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "upload_bytes": size_bytes,
        "upload_status": status,
        "upload_mb_s": round(size_bytes / seconds / 1e6),
        "upload_target_mb_s": 200,
    }
