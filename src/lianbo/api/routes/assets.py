"""/api/v1/assets: the media library and its three-level review."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from lianbo.api.content_schemas import (
    AssetCreate,
    AssetDetailOut,
    AssetOut,
    ReviewRequest,
    ReviewStepOut,
    RevokeRequest,
)
from lianbo.api.deps import ActorDep, ContainerDep, UowDep
from lianbo.api.routes.common import Limit, Offset
from lianbo.api.schemas import (
    Page,
)
from lianbo.api.streaming import receive_multipart
from lianbo.domain.errors import InvalidInput
from lianbo.domain.media import AssetKind
from lianbo.domain.review import ReviewState
from lianbo.services import assets, review
from lianbo.services.assets import AssetDetail, require_content_manager
from lianbo.services.ingest import ingest_blob

router = APIRouter(prefix="/api/v1/assets", tags=["assets"])


def detail_out(d: AssetDetail) -> AssetDetailOut:
    return AssetDetailOut(
        **AssetOut.of(d.asset).model_dump(),
        probe=asdict(d.asset.probe) if d.asset.probe else None,
        qc=d.qc,
        screening=d.screening,
        qc_stage=d.qc_stage,
        qc_error=d.qc_error,
        phash_seconds=d.phash_seconds,
        renditions=d.renditions,
        history=[
            ReviewStepOut(
                round=s.round,
                action=s.action,
                level=s.level,
                actor=s.actor,
                from_state=s.from_state,
                to_state=s.to_state,
                reason=s.reason,
                at=s.at,
            )
            for s in d.history
        ],
    )


@router.post("", status_code=201)
async def create_asset(
    request: Request, response: Response, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> AssetOut:
    """Upload a file (multipart ``file`` + optional ``name``), or JSON for a
    ticker ``{kind: "ticker", name, text}`` or stream ``{kind: "stream", name, url}``.
    The same bytes uploaded again in the same jurisdiction answer 200 with
    the existing asset."""
    require_content_manager(actor)
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = AssetCreate.model_validate_json(await request.body())
        except ValidationError as error:
            raise RequestValidationError(error.errors()) from None
        if body.kind == "ticker":
            asset = await assets.add_ticker(
                uow, container.clock, actor, name=body.name, text=body.text or ""
            )
        else:
            asset = await assets.add_stream(
                uow, container.clock, actor, name=body.name, url=body.url or ""
            )
        return AssetOut.of(asset)
    upload = await receive_multipart(request, container.blobs, container.settings.max_upload_bytes)
    if upload.blob is None:
        raise InvalidInput("multipart field 'file' is missing", field="file")
    if upload.blob.size == 0:
        if not upload.blob.existed:
            container.blobs.delete(upload.blob.sha256)
        raise InvalidInput("the file is empty", field="file")
    name = upload.fields.get("name") or upload.filename or upload.blob.sha256
    added = await ingest_blob(container, actor, upload.blob, name)
    if not added.created:
        response.status_code = 200
    return AssetOut.of(added.asset)


@router.get("")
async def list_assets(
    actor: ActorDep,
    uow: UowDep,
    state: Annotated[list[ReviewState] | None, Query()] = None,
    kind: AssetKind | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    tier: Annotated[str | None, Query(max_length=12)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AssetOut]:
    found, total = await assets.list_assets(
        uow, actor, states=state, kind=kind, query=q, fit_tier=tier, limit=limit, offset=offset
    )
    return Page(items=[AssetOut.of(a) for a in found], total=total)


@router.get("/{asset_id}")
async def get_asset(asset_id: str, actor: ActorDep, uow: UowDep) -> AssetDetailOut:
    return detail_out(await assets.asset_detail(uow, actor, asset_id))


@router.post("/{asset_id}/submit")
async def submit(asset_id: str, actor: ActorDep, container: ContainerDep, uow: UowDep) -> AssetOut:
    return AssetOut.of(await review.submit(uow, container.clock, actor, asset_id))


@router.post("/{asset_id}/review")
async def review_asset(
    asset_id: str, body: ReviewRequest, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> AssetOut:
    """Pass (``approve``) or fail (``reject``, with a reason) the waiting level."""
    updated = await review.review(uow, container.clock, actor, asset_id, body.decision, body.reason)
    return AssetOut.of(updated)


@router.post("/{asset_id}/revoke")
async def revoke(
    asset_id: str, body: RevokeRequest, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> AssetOut:
    revoked = await review.revoke(uow, container.clock, actor, asset_id, body.reason)
    return AssetOut.of(revoked)
