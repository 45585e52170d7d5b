"""A minimal HTTP/1.1 keep-alive load generator for loopback benchmarks.

httpx costs more CPU per request than the server under test; this sends raw
requests and reads only the status line and headers (bodies are skipped by
Content-Length), so the figure measures the server.
"""

from __future__ import annotations

import asyncio
import time


async def _client(
    host: str,
    port: int,
    request: bytes,
    deadline: float,
    counts: list[int],
    statuses: dict[int, int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            statuses[status] = statuses.get(status, 0) + 1
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            counts[0] += 1
    finally:
        writer.close()


async def hammer(
    host: str, port: int, path: str, headers: dict[str, str], *, connections: int, seconds: float
) -> tuple[float, dict[int, int]]:
    """Requests per second over ``seconds`` with ``connections`` keep-alive clients."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}"] + [
        f"{k}: {v}" for k, v in headers.items()
    ]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    counts = [0]
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_client(host, port, request, deadline, counts, statuses) for _ in range(connections))
    )
    return counts[0] / (time.perf_counter() - started), statuses


async def download(host: str, port: int, path: str) -> tuple[int, float]:
    """Fetch ``path`` once, discarding the body; (bytes, seconds)."""
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    started = time.perf_counter()
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    await reader.readuntil(b"\r\n\r\n")
    received = 0
    while chunk := await reader.read(1 << 20):
        received += len(chunk)
    writer.close()
    return received, time.perf_counter() - started


async def upload(
    host: str, port: int, path: str, headers: dict[str, str], parts: list[bytes], filler: int
) -> tuple[int, float]:
    """POST ``parts[0] + filler zero bytes + parts[1:]`` with Content-Length;
    (status, seconds from first byte sent to the answer)."""
    total = sum(len(p) for p in parts) + filler
    reader, writer = await asyncio.open_connection(host, port)
    head = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {total}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    started = time.perf_counter()
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + parts[0])
    block = bytes(1 << 20)
    sent = 0
    while sent < filler:
        chunk = block[: min(len(block), filler - sent)]
        writer.write(chunk)
        sent += len(chunk)
        await writer.drain()
    for part in parts[1:]:
        writer.write(part)
    await writer.drain()
    answer = await reader.readuntil(b"\r\n\r\n")
    seconds = time.perf_counter() - started
    writer.close()
    return int(answer[9:12]), seconds
