"""Upload throughput: a large file through ``POST /api/v1/assets`` into
local storage (streamed multipart, sha256 on the way), over loopback.

The file is a real PNG followed by zeros (Pillow reads the image and
ignores what trails it), so it passes the content-type check like any
upload and the measurement covers receive + hash + write + probe.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

from PIL import Image

from bench import seed
from bench.loadgen import upload
from bench.server import served
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
    boundary = "lianbo-bench-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="big.png"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode() + _png()
    tail = f"\r\n--{boundary}--\r\n".encode()
    with served(data_dir) as server:
        headers = {
            "Authorization": f"Bearer {server.admin_token()}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        }
        status, seconds = asyncio.run(
            upload("127.0.0.1", server.port, "/api/v1/assets", headers, [head, tail], size_bytes)
        )
    return {
        "upload_bytes": size_bytes,
        "upload_status": status,
        "upload_mb_s": round(size_bytes / seconds / 1e6),
        "upload_target_mb_s": 200,
    }
