"""The media library: adding assets (files, tickers, streams), finding them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.assets import Asset, QcStatus, check_stream_url, check_ticker, clean_name
from lianbo.domain.errors import Forbidden, NotFound
from lianbo.domain.events import AssetAdded
from lianbo.domain.media import AssetKind, Probe
from lianbo.domain.ports import BlobStore, Clock, StoredBlob
from lianbo.domain.review import ReviewState, ReviewStep
from lianbo.domain.roles import Permission
from lianbo.domain.users import Actor
from lianbo.services import audit


@dataclass(frozen=True, slots=True)
class Added:
    asset: Asset
    created: bool  # False when the same bytes were already in this jurisdiction


def require_content_manager(actor: Actor) -> None:
    if not actor.can(Permission.MANAGE_CONTENT):
        raise Forbidden("adding content needs the operator or admin role")


def _new(actor: Actor, clock: Clock, name: str, kind: AssetKind, **fields: Any) -> Asset:
    now = clock.now()
    return Asset(
        id=uuid.uuid4().hex,
        name=name,
        kind=kind,
        region=actor.jurisdiction,
        owner=actor.user_id,
        review_state=ReviewState.DRAFT,
        review_round=0,
        created_at=now,
        updated_at=now,
        **fields,
    )


async def add_file(
    uow: UnitOfWork,
    clock: Clock,
    blobs: BlobStore,
    actor: Actor,
    *,
    blob: StoredBlob,
    probe: Probe,
    name: str,
) -> Added:
    """Register a stored, already type-checked file; dedup by sha256."""
    require_content_manager(actor)
    existing = await uow.assets.by_sha256(actor.jurisdiction, blob.sha256)
    if existing is not None:
        return Added(existing, created=False)
    asset = _new(
        actor,
        clock,
        clean_name(name),
        probe.kind,
        sha256=blob.sha256,
        size=blob.size,
        probe=probe,
        qc_status=QcStatus.PENDING,
    )
    await uow.assets.add(asset)
    await audit.record(
        uow,
        clock,
        actor,
        "asset.create",
        ("asset", asset.id),
        region=asset.region,
        after=asset.facts(),
    )
    uow.record(AssetAdded(asset.id, needs_qc=True))
    await uow.commit()
    return Added(asset, created=True)


async def add_ticker(uow: UnitOfWork, clock: Clock, actor: Actor, *, name: str, text: str) -> Asset:
    require_content_manager(actor)
    asset = _new(
        actor,
        clock,
        clean_name(name),
        AssetKind.TICKER,
        text=check_ticker(text),
        qc_status=QcStatus.PENDING,
    )
    return await _add_fileless(uow, clock, actor, asset)


async def add_stream(uow: UnitOfWork, clock: Clock, actor: Actor, *, name: str, url: str) -> Asset:
    require_content_manager(actor)
    asset = _new(
        actor,
        clock,
        clean_name(name),
        AssetKind.STREAM,
        url=check_stream_url(url),
        qc_status=QcStatus.NOT_APPLICABLE,
    )
    return await _add_fileless(uow, clock, actor, asset)


async def _add_fileless(uow: UnitOfWork, clock: Clock, actor: Actor, asset: Asset) -> Asset:
    await uow.assets.add(asset)
    await audit.record(
        uow,
        clock,
        actor,
        "asset.create",
        ("asset", asset.id),
        region=asset.region,
        after=asset.facts(),
    )
    uow.record(AssetAdded(asset.id, needs_qc=asset.qc_status is QcStatus.PENDING))
    await uow.commit()
    return asset


async def get_asset(uow: UnitOfWork, actor: Actor, asset_id: str) -> Asset:
    """An asset inside the actor's jurisdiction; otherwise not found."""
    asset = await uow.assets.get(asset_id)
    if asset is None or not actor.sees(asset.region):
        raise NotFound("asset not found")
    return asset


@dataclass(frozen=True, slots=True)
class AssetDetail:
    asset: Asset
    qc: dict[str, Any] | None
    screening: dict[str, Any] | None
    qc_stage: str | None
    qc_error: str | None
    phash_seconds: int
    renditions: list[dict[str, Any]]
    history: list[ReviewStep]


async def asset_detail(uow: UnitOfWork, actor: Actor, asset_id: str) -> AssetDetail:
    asset = await get_asset(uow, actor, asset_id)
    extra = await uow.assets.details(asset_id)
    return AssetDetail(
        asset=asset,
        qc=extra["qc"],
        screening=extra["screening"],
        qc_stage=extra["qc_stage"],
        qc_error=extra["qc_error"],
        phash_seconds=extra["phash_seconds"],
        renditions=await uow.assets.renditions(asset_id),
        history=await uow.assets.history(asset_id),
    )


async def list_assets(
    uow: UnitOfWork,
    actor: Actor,
    *,
    states: list[ReviewState] | None = None,
    kind: AssetKind | None = None,
    query: str | None = None,
    fit_tier: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Asset], int]:
    return await uow.assets.search(
        within=actor.jurisdiction,
        states=states,
        kind=kind,
        query=query,
        fit_tier=fit_tier,
        limit=limit,
        offset=offset,
    )


def media_path(blobs: BlobStore, asset: Asset) -> Path:
    if asset.sha256 is None:
        raise NotFound("this asset has no file")
    return blobs.path(asset.sha256)
