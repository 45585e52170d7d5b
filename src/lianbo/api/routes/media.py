"""/media/{sha256}: content-addressed files, immutable, with Range and ETag.

Anyone holding a sha256 may fetch its bytes (screens and CDNs do, without a
user session); the hash is unguessable and says nothing about who may play
it — signed manifests decide that.

A blob with a local file (the local store; a copy in the S3 cache) is
answered by Starlette's FileResponse. Otherwise (S3, not cached) the bytes
stream through this process with the one requested range passed on to the
object store (ADR 0019); a rare multi-range request fetches the file into
the cache first.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable

from lianbo.api.deps import ContainerDep
from lianbo.api.errors import error_body
from lianbo.domain.assets import is_sha256
from lianbo.domain.errors import Gone, InvalidInput, NotFound
from lianbo.domain.ports import BlobStore

router = APIRouter(tags=["media"])

IMMUTABLE = "public, max-age=31536000, immutable"


class MediaFileResponse(FileResponse):
    """Larger read chunks than Starlette's 64 KiB: each chunk is a thread
    hop, and media files are big and read sequentially."""

    chunk_size = 1024 * 1024


@router.get("/media/{sha256}", operation_id="get_media")
@router.head("/media/{sha256}", operation_id="head_media")
async def media(sha256: str, request: Request, container: ContainerDep) -> Response:
    """The bytes of a blob (original, rendition, poster). Range requests
    (single, suffix, multiple) are answered in chunks, never read whole."""
    if not is_sha256(sha256):
        raise NotFound("no such media")
    blobs = container.blobs
    local = blobs.cached(sha256)
    size = local.stat().st_size if local else await asyncio.to_thread(blobs.size, sha256)
    if size is None:
        raise NotFound("no such media")
    etag = f'"{sha256}"'
    headers = {"Cache-Control": IMMUTABLE, "ETag": etag}
    async with container.uow() as uow:
        # Checked before the 304 too: a caching edge revalidating a revoked
        # asset's file must hear that it is gone (deploy/nginx/).
        if await uow.assets.withdrawn(sha256):
            raise Gone("this media was withdrawn: its asset is revoked")
        media_type = await uow.assets.media_type_of(sha256) or "application/octet-stream"
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    refused = refused_range(request, size)
    if refused is not None:
        return refused
    wanted = _ranges(request, size, etag)
    if local is None and wanted is not None and len(wanted) > 1:
        local = await asyncio.to_thread(blobs.path, sha256)
    if local is not None:
        return MediaFileResponse(local, media_type=media_type, headers=headers)
    start, stop = wanted[0] if wanted else (0, size)
    headers |= {"Accept-Ranges": "bytes", "Content-Length": str(stop - start)}
    status = 200
    if wanted:
        status, headers["Content-Range"] = 206, f"bytes {start}-{stop - 1}/{size}"
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=media_type)
    return StreamingResponse(
        await _open(blobs, sha256, start, stop),
        status_code=status,
        headers=headers,
        media_type=media_type,
    )


def _ranges(request: Request, size: int, etag: str) -> list[tuple[int, int]] | None:
    """The ranges to send, as (start, stop); None for the whole file (no
    Range, or an If-Range that no longer matches: the bytes never change)."""
    header = request.headers.get("range")
    if header is None or request.headers.get("if-range", etag) != etag:
        return None
    try:
        return MediaFileResponse._parse_range_header(header, size)
    except (MalformedRangeHeader, RangeNotSatisfiable):
        return None  # with If-Range: refused_range let it through; send it all


async def _open(blobs: BlobStore, sha256: str, start: int, stop: int) -> AsyncIterator[bytes]:
    """Open the bytes now (a missing or unreachable object fails before the
    response starts), then pull each chunk in a thread."""
    chunks: Iterator[bytes] = await asyncio.to_thread(blobs.read, sha256, start, stop)

    async def stream() -> AsyncIterator[bytes]:
        try:
            while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
                yield chunk
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                await asyncio.to_thread(close)

    return stream()


def refused_range(request: Request, file: Path | int) -> Response | None:
    """A Range header FileResponse would refuse, refused in the error shape
    (for every route that answers a FileResponse)
    (Starlette answers those in plain text); None when it is fine or absent.
    ``file`` is the file or its size. Uses FileResponse's own parser
    (Starlette is pinned), so the two agree."""
    header = request.headers.get("range")
    if header is None or "if-range" in request.headers:  # If-Range: Starlette decides
        return None
    size = file if isinstance(file, int) else file.stat().st_size
    try:
        MediaFileResponse._parse_range_header(header, size)
    except MalformedRangeHeader as error:
        raise InvalidInput(f"Range: {error.content}", field="Range") from None
    except RangeNotSatisfiable:
        return JSONResponse(
            error_body("range_not_satisfiable", f"the file has {size} bytes", "Range"),
            status_code=416,
            headers={"Content-Range": f"bytes */{size}"},
        )
    return None
