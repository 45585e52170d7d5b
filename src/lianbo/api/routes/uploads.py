"""/api/v1/uploads: resumable uploads, tus 1.0 (core + creation + termination).

    POST  /api/v1/uploads        Upload-Length, Upload-Metadata name <b64> → 201 Location
    HEAD  /api/v1/uploads/{id}   → Upload-Offset, Upload-Length
    PATCH /api/v1/uploads/{id}   Upload-Offset, application/offset+octet-stream → 204
    DELETE /api/v1/uploads/{id}
When the last byte lands the file is ingested like a direct upload; the
PATCH answer carries ``Lianbo-Asset-Id``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from lianbo.api.deps import ActorDep, ContainerDep
from lianbo.api.errors import error_body
from lianbo.domain.errors import InvalidInput
from lianbo.services import uploads

router = APIRouter(prefix="/api/v1/uploads", tags=["uploads"])

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = "application/offset+octet-stream"


def _tus_headers(container: ContainerDep) -> dict[str, str]:
    return TUS | {
        "Tus-Version": "1.0.0",
        "Tus-Extension": "creation,termination",
        "Tus-Max-Size": str(container.settings.max_upload_bytes),
    }


def _check_version(request: Request) -> None:
    if request.headers.get("tus-resumable") != "1.0.0":
        raise InvalidInput("Tus-Resumable: 1.0.0 header is required", field="Tus-Resumable")


def _int_header(request: Request, name: str) -> int:
    return uploads.parse_count(request.headers.get(name), name)


@router.options("")
async def options(container: ContainerDep) -> Response:
    return Response(status_code=204, headers=_tus_headers(container))


@router.post("", status_code=201)
async def create(request: Request, actor: ActorDep, container: ContainerDep) -> Response:
    _check_version(request)
    length = _int_header(request, "upload-length")
    metadata = uploads.parse_metadata(request.headers.get("upload-metadata"))
    upload_id = await uploads.create(container, actor, length, metadata)
    return Response(status_code=201, headers=TUS | {"Location": f"/api/v1/uploads/{upload_id}"})


@router.head("/{upload_id}")
async def head(upload_id: str, actor: ActorDep, container: ContainerDep) -> Response:
    found = await uploads.state(container, actor, upload_id)
    headers = TUS | {
        "Upload-Offset": str(found.offset),
        "Upload-Length": str(found.length),
        "Cache-Control": "no-store",
    }
    if found.asset_id:
        headers["Lianbo-Asset-Id"] = found.asset_id
    return Response(status_code=200, headers=headers)


@router.patch("/{upload_id}")
async def patch(
    upload_id: str, request: Request, actor: ActorDep, container: ContainerDep
) -> Response:
    _check_version(request)
    if request.headers.get("content-type") != OCTETS:
        body = error_body("unsupported_media_type", f"a PATCH body is {OCTETS}", "Content-Type")
        return JSONResponse(body, status_code=415, headers=TUS)
    offset = _int_header(request, "upload-offset")
    found, added = await uploads.append(container, actor, upload_id, offset, request.stream())
    headers = TUS | {"Upload-Offset": str(found.offset)}
    if added is not None:
        headers["Lianbo-Asset-Id"] = added.asset.id
    return Response(status_code=204, headers=headers)


@router.delete("/{upload_id}", status_code=204)
async def delete(upload_id: str, actor: ActorDep, container: ContainerDep) -> Response:
    await uploads.cancel(container, actor, upload_id)
    return Response(status_code=204, headers=TUS)
