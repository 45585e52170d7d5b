"""Resumable uploads for the console: tus 1.0 over the session cookie.

The same protocol as ``/api/v1/uploads`` (which takes bearer tokens), so
``static/upload.js`` speaks plain tus:

    POST  /assets/uploads        Upload-Length, Upload-Metadata → 201 Location
    HEAD  /assets/uploads/{id}   → Upload-Offset (resume after a failed chunk)
    PATCH /assets/uploads/{id}   Upload-Offset + bytes → 204 Upload-Offset,
                                 and Lianbo-Asset-Id once the last byte landed

State-changing calls need the session's CSRF token in ``X-CSRF-Token``.
Errors answer JSON ``{"error": message}`` in the page's language, so the
uploader can show them under the file's progress bar.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from lianbo.api.deps import ContainerDep
from lianbo.domain.errors import DomainError, InvalidInput
from lianbo.services import uploads
from lianbo.web.domain_messages import localise
from lianbo.web.forms import status_of
from lianbo.web.render import language_of
from lianbo.web.session import ConsoleDep, PostConsoleDep

router = APIRouter(include_in_schema=False)

TUS = {"Tus-Resumable": "1.0.0", "Cache-Control": "no-store"}
BASE = "/assets/uploads"


def _int_header(request: Request, name: str) -> int:
    return uploads.parse_count(request.headers.get(name), name)


def _refused(request: Request, problem: DomainError) -> Response:
    message = localise(language_of(request), problem.message)
    return JSONResponse({"error": message}, status_code=status_of(problem), headers=TUS)


@router.post(BASE)
async def create_upload(
    request: Request, console: PostConsoleDep, container: ContainerDep
) -> Response:
    """Start an upload of ``Upload-Length`` bytes named by ``Upload-Metadata``."""
    try:
        length = _int_header(request, "upload-length")
        metadata = uploads.parse_metadata(request.headers.get("upload-metadata"))
        upload_id = await uploads.create(container, console.actor, length, metadata)
    except DomainError as problem:
        return _refused(request, problem)
    return Response(status_code=201, headers=TUS | {"Location": f"{BASE}/{upload_id}"})


@router.head(BASE + "/{upload_id}")
async def upload_offset(
    request: Request, upload_id: str, console: ConsoleDep, container: ContainerDep
) -> Response:
    """How many bytes the server holds: where a retry continues from."""
    try:
        found = await uploads.state(container, console.actor, upload_id)
    except DomainError as problem:
        return Response(status_code=status_of(problem), headers=TUS)
    headers = TUS | {"Upload-Offset": str(found.offset), "Upload-Length": str(found.length)}
    if found.asset_id:
        headers["Lianbo-Asset-Id"] = found.asset_id
    return Response(status_code=200, headers=headers)


@router.patch(BASE + "/{upload_id}")
async def upload_chunk(
    request: Request, upload_id: str, console: PostConsoleDep, container: ContainerDep
) -> Response:
    """Append one chunk at ``Upload-Offset``; the last one ingests the file."""
    if request.headers.get("content-type") != "application/offset+octet-stream":
        wrong = InvalidInput("a PATCH body is application/offset+octet-stream")
        return JSONResponse(
            {"error": localise(language_of(request), wrong.message)}, status_code=415, headers=TUS
        )
    try:
        offset = _int_header(request, "upload-offset")
        found, added = await uploads.append(
            container, console.actor, upload_id, offset, request.stream()
        )
    except DomainError as problem:
        return _refused(request, problem)
    headers = TUS | {"Upload-Offset": str(found.offset)}
    if added is not None:
        headers["Lianbo-Asset-Id"] = added.asset.id
    return Response(status_code=204, headers=headers)
