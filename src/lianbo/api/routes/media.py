"""/media/{sha256}: content-addressed files, immutable, with Range and ETag.

Anyone holding a sha256 may fetch its bytes (screens and CDNs do, without a
user session); the hash is unguessable and says nothing about who may play
it — signed manifests decide that.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable

from lianbo.api.deps import ContainerDep
from lianbo.api.errors import error_body
from lianbo.domain.assets import is_sha256
from lianbo.domain.errors import InvalidInput, NotFound

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
    (single, suffix, multiple) are answered by Starlette's FileResponse,
    which streams the file in chunks and never reads it whole."""
    if not is_sha256(sha256) or not container.blobs.exists(sha256):
        raise NotFound("no such media")
    etag = f'"{sha256}"'
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": IMMUTABLE})
    path = container.blobs.path(sha256)
    refused = refused_range(request, path)
    if refused is not None:
        return refused
    async with container.uow() as uow:
        media_type = await uow.assets.media_type_of(sha256)
    return MediaFileResponse(
        path,
        media_type=media_type or "application/octet-stream",
        headers={"Cache-Control": IMMUTABLE, "ETag": etag},
    )


def refused_range(request: Request, path: Path) -> Response | None:
    """A Range header FileResponse would refuse, refused in the error shape
    (for every route that answers a FileResponse)
    (Starlette answers those in plain text); None when it is fine or absent.
    Uses FileResponse's own parser (Starlette is pinned), so the two agree."""
    header = request.headers.get("range")
    if header is None or "if-range" in request.headers:  # If-Range: Starlette decides
        return None
    size = path.stat().st_size
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
