"""Purging the caching edges (deploy/nginx/lianbo-edge.conf.template).

The edge caches each media file in slices of ``SLICE_BYTES`` under the key
``/media/<sha256>`` + the slice's range, as nginx's slice module names it
(``bytes=0-8388607``, always the whole slice, even past the end of the
file). A purge names every slice of the file: one request per slice, to
``<edge>/purge/media/<sha256>`` with the slice in ``X-Slice-Range``. A 404
means the slice was not cached — nothing to do.
"""

from __future__ import annotations

import asyncio

import httpx
import structlog

SLICE_BYTES = 8 * 1024 * 1024  # `slice 8m;` in the shipped config
TIMEOUT_S = 5.0
AT_ONCE = 16  # purge requests in flight per edge

log = structlog.get_logger()


def slice_ranges(size: int, slice_bytes: int = SLICE_BYTES) -> list[str]:
    """The slice keys' ranges nginx's slice module uses for a file of ``size``."""
    count = max(1, -(-size // slice_bytes))
    return [f"bytes={i * slice_bytes}-{(i + 1) * slice_bytes - 1}" for i in range(count)]


class NoEdges:
    """No edge configured: nothing to purge."""

    async def purge(self, blobs: list[tuple[str, int]]) -> None:
        return None


class NginxEdges:
    """Every edge in ``LIANBO_EDGE_PURGE_URLS``, purged over HTTP."""

    def __init__(self, urls: list[str], transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.urls = [url.rstrip("/") for url in urls]
        self.transport = transport

    async def purge(self, blobs: list[tuple[str, int]]) -> None:
        async with httpx.AsyncClient(timeout=TIMEOUT_S, transport=self.transport) as client:
            await asyncio.gather(*(self._purge_edge(client, url, blobs) for url in self.urls))

    async def _purge_edge(
        self, client: httpx.AsyncClient, edge: str, blobs: list[tuple[str, int]]
    ) -> None:
        gate = asyncio.Semaphore(AT_ONCE)
        failures: list[str] = []

        async def one(sha256: str, slice_range: str) -> None:
            async with gate:
                try:
                    answer = await client.get(
                        f"{edge}/purge/media/{sha256}", headers={"X-Slice-Range": slice_range}
                    )
                except httpx.HTTPError as error:
                    failures.append(type(error).__name__)
                    return
                if answer.status_code not in (200, 404):
                    failures.append(f"HTTP {answer.status_code}")

        await asyncio.gather(
            *(one(sha, part) for sha, size in blobs for part in slice_ranges(size))
        )
        if failures:
            # The edge revalidates what it holds with the origin, which
            # refuses withdrawn media: the purge is the fast path, not the only one.
            log.warning("edge purge incomplete", edge=edge, failed=len(failures), why=failures[0])


def edge_caches(urls: list[str]) -> NoEdges | NginxEdges:
    """The edges the settings name (none by default)."""
    return NginxEdges(urls) if urls else NoEdges()
