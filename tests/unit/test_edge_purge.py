"""Purging the caching edges (adapters/edge.py): every slice of every file,
on every edge; an edge out of reach does not fail the revocation."""

from __future__ import annotations

import httpx

from lianbo.adapters.edge import SLICE_BYTES, NginxEdges, NoEdges, slice_ranges

SHA = "ab" * 32


def test_slice_ranges_name_every_slice_as_nginx_does() -> None:
    first, second = "bytes=0-8388607", "bytes=8388608-16777215"
    assert slice_ranges(0) == [first]
    assert slice_ranges(1) == [first]
    assert slice_ranges(SLICE_BYTES) == [first]
    assert slice_ranges(SLICE_BYTES + 1) == [first, second]
    assert len(slice_ranges(4 * 1024**3)) == 512


async def test_each_slice_is_purged_on_each_edge() -> None:
    seen: list[tuple[str, str]] = []

    def edge(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers["x-slice-range"]))
        return httpx.Response(404 if "edge2" in str(request.url) else 200)

    edges = NginxEdges(["http://edge1:8080/", "http://edge2:8080"], httpx.MockTransport(edge))
    await edges.purge([(SHA, SLICE_BYTES + 5), ("cd" * 32, 10)])
    assert sorted(seen) == sorted(
        [
            (f"http://{host}:8080/purge/media/{SHA}", part)
            for host in ("edge1", "edge2")
            for part in slice_ranges(SLICE_BYTES + 5)
        ]
        + [
            (f"http://{host}:8080/purge/media/{'cd' * 32}", "bytes=0-8388607")
            for host in ("edge1", "edge2")
        ]
    )


async def test_an_unreachable_edge_is_logged_not_raised() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    await NginxEdges(["http://edge1:8080"], httpx.MockTransport(down)).purge([(SHA, 1)])
    await NoEdges().purge([(SHA, 1)])
