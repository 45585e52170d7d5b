"""/media/{sha256}: content-addressed files, immutable, with Range and ETag.

Anyone holding a sha256 may fetch its bytes (screens and CDNs do, without a
user session); the hash is unguessable and says nothing about who may play
it — signed manifests decide that.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse

from lianbo.api.deps import ContainerDep
from lianbo.domain.assets import is_sha256
from lianbo.domain.errors import NotFound

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
    async with container.uow() as uow:
        media_type = await uow.assets.media_type_of(sha256)
    return MediaFileResponse(
        container.blobs.path(sha256),
        media_type=media_type or "application/octet-stream",
        headers={"Cache-Control": IMMUTABLE, "ETag": etag},
    )
