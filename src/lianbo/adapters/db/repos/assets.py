"""Assets, their review steps, renditions and resumable uploads."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from lianbo.adapters.db.tables import AssetRow, RenditionRow, ReviewStepRow
from lianbo.domain.assets import Asset
from lianbo.domain.manifest import AssetFacts, MediaFile
from lianbo.domain.media import AssetKind, Dynamic, Probe
from lianbo.domain.monitoring.tracks import read_tracks
from lianbo.domain.regions import subtree_range
from lianbo.domain.review import ReviewState, ReviewStep


def probe_to_json(probe: Probe | None) -> dict[str, Any] | None:
    return asdict(probe) if probe else None


def probe_from_json(data: dict[str, Any] | None) -> Probe | None:
    if not data:
        return None
    values = dict(data)
    values["kind"] = AssetKind(values["kind"])
    if values.get("dynamic"):
        values["dynamic"] = Dynamic(values["dynamic"])
    return Probe(**values)


def _asset(row: AssetRow) -> Asset:
    return Asset(
        id=row.id,
        name=row.name,
        kind=AssetKind(row.kind),
        region=row.region_code,
        owner=row.owner_id,
        review_state=ReviewState(row.review_state),
        review_round=row.review_round,
        qc_status=row.qc_status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        sha256=row.sha256,
        size=row.size,
        text=row.text,
        url=row.url,
        probe=probe_from_json(row.probe),
        qc_progress=row.qc_progress,
        fit_tiers=tuple(t for t in row.fit_tiers.split(",") if t),
    )


def _step(row: ReviewStepRow) -> ReviewStep:
    return ReviewStep(
        round=row.round,
        action=row.action,
        level=row.level,
        actor_id=row.actor_id,
        actor=row.actor,
        from_state=ReviewState(row.from_state),
        to_state=ReviewState(row.to_state),
        at=row.at,
        reason=row.reason,
    )


class AssetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, asset: Asset) -> None:
        self.session.add(
            AssetRow(
                id=asset.id,
                name=asset.name,
                kind=asset.kind.value,
                region_code=asset.region,
                owner_id=asset.owner,
                sha256=asset.sha256,
                size=asset.size,
                text=asset.text,
                url=asset.url,
                review_state=asset.review_state.value,
                review_round=asset.review_round,
                qc_status=asset.qc_status,
                qc_progress=asset.qc_progress,
                probe=probe_to_json(asset.probe),
                fit_tiers=",".join(asset.fit_tiers),
                created_at=asset.created_at,
                updated_at=asset.updated_at,
            )
        )
        await self.session.flush()

    async def get(self, asset_id: str) -> Asset | None:
        row = await self.session.get(AssetRow, asset_id)
        return _asset(row) if row else None

    async def by_sha256(self, region: str, sha256: str) -> Asset | None:
        row = await self.session.scalar(
            select(AssetRow).where(AssetRow.region_code == region, AssetRow.sha256 == sha256)
        )
        return _asset(row) if row else None

    async def details(self, asset_id: str) -> dict[str, Any]:
        """The heavy JSON columns, read only for the detail view."""
        row = await self.session.get(AssetRow, asset_id)
        if row is None:
            return {}
        return {
            "qc": row.qc,
            "screening": row.screening,
            "qc_stage": row.qc_stage,
            "qc_error": row.qc_error,
            "phash_seconds": read_tracks(row.phash_track or b"").seconds,
        }

    async def phash_track(self, asset_id: str) -> bytes:
        row = await self.session.get(AssetRow, asset_id)
        return (row.phash_track or b"") if row else b""

    async def search(
        self,
        *,
        within: str,
        states: list[ReviewState] | None,
        kind: AssetKind | None,
        query: str | None,
        fit_tier: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Asset], int]:
        low, high = subtree_range(within)
        where: list[ColumnElement[bool]] = [
            AssetRow.region_code >= low,
            AssetRow.region_code < high,
        ]
        if states:
            where.append(AssetRow.review_state.in_([s.value for s in states]))
        if kind:
            where.append(AssetRow.kind == kind.value)
        if query:
            where.append(AssetRow.name.contains(query, autoescape=True))
        if fit_tier:
            where.append(AssetRow.fit_tiers.contains(fit_tier, autoescape=True))
        total = await self.session.scalar(select(func.count()).select_from(AssetRow).where(*where))
        rows = await self.session.scalars(
            select(AssetRow)
            .where(*where)
            .order_by(AssetRow.created_at.desc(), AssetRow.id)
            .limit(limit)
            .offset(offset)
        )
        return [_asset(r) for r in rows.all()], int(total or 0)

    async def set_state(
        self, asset_id: str, state: ReviewState, round_: int, now: datetime
    ) -> None:
        await self.session.execute(
            update(AssetRow)
            .where(AssetRow.id == asset_id)
            .values(review_state=state.value, review_round=round_, updated_at=now)
        )

    async def set_qc(self, asset_id: str, **values: Any) -> None:
        """Progress and results of the QC job (status, progress, stage, qc...)."""
        if "probe" in values and not isinstance(values["probe"], dict | None):
            values["probe"] = probe_to_json(values["probe"])
        if "fit_tiers" in values:
            values["fit_tiers"] = ",".join(values["fit_tiers"])
        await self.session.execute(update(AssetRow).where(AssetRow.id == asset_id).values(**values))

    async def manifest_facts(self, ids: set[str]) -> dict[str, AssetFacts]:
        """Approved assets among ``ids`` with their files, for manifests.

        Anything not approved (draft, rejected, revoked) is simply absent, so
        a revoked asset drops out of every manifest built after the revoke.
        """
        if not ids:
            return {}
        rows = (
            await self.session.scalars(
                select(AssetRow).where(
                    AssetRow.id.in_(ids), AssetRow.review_state == ReviewState.APPROVED.value
                )
            )
        ).all()
        renditions: dict[str, dict[str, MediaFile]] = {r.id: {} for r in rows}
        if rows:
            found = await self.session.scalars(
                select(RenditionRow).where(RenditionRow.asset_id.in_(list(renditions)))
            )
            for rendition in found.all():
                tier = rendition.name.split("-")[0]
                if rendition.media_type.startswith(("video/", "audio/")):
                    renditions[rendition.asset_id][tier] = MediaFile(
                        rendition.sha256, rendition.size, rendition.media_type
                    )
        return {
            row.id: AssetFacts(
                id=row.id,
                kind=row.kind,
                name=row.name,
                original=MediaFile(row.sha256, row.size or 0, _media_type(row))
                if row.sha256
                else None,
                fit_tiers=tuple(t for t in row.fit_tiers.split(",") if t),
                renditions=renditions[row.id],
                text=row.text,
                url=row.url,
            )
            for row in rows
        }

    async def unfinished_qc(self, states: tuple[str, ...] = ("pending", "running")) -> list[str]:
        rows = await self.session.scalars(select(AssetRow.id).where(AssetRow.qc_status.in_(states)))
        return list(rows.all())

    async def add_step(self, asset_id: str, step: ReviewStep) -> None:
        await self.session.execute(
            insert(ReviewStepRow).values(
                asset_id=asset_id,
                round=step.round,
                action=step.action,
                level=step.level,
                actor_id=step.actor_id,
                actor=step.actor,
                from_state=step.from_state.value,
                to_state=step.to_state.value,
                reason=step.reason,
                at=step.at,
            )
        )

    async def history(self, asset_id: str) -> list[ReviewStep]:
        rows = await self.session.scalars(
            select(ReviewStepRow)
            .where(ReviewStepRow.asset_id == asset_id)
            .order_by(ReviewStepRow.id)
        )
        return [_step(r) for r in rows.all()]

    async def put_rendition(self, asset_id: str, name: str, **values: Any) -> None:
        await self.session.execute(
            delete(RenditionRow).where(RenditionRow.asset_id == asset_id, RenditionRow.name == name)
        )
        await self.session.execute(
            insert(RenditionRow).values(asset_id=asset_id, name=name, **values)
        )

    async def renditions(self, asset_id: str) -> list[dict[str, Any]]:
        rows = await self.session.scalars(
            select(RenditionRow)
            .where(RenditionRow.asset_id == asset_id)
            .order_by(RenditionRow.name)
        )
        return [
            {
                "name": r.name,
                "sha256": r.sha256,
                "size": r.size,
                "media_type": r.media_type,
                "width": r.width,
                "height": r.height,
            }
            for r in rows.all()
        ]

    async def media_type_of(self, sha256: str) -> str | None:
        """What a stored blob is, from the rendition or asset that owns it."""
        rendition = await self.session.scalar(
            select(RenditionRow.media_type).where(RenditionRow.sha256 == sha256).limit(1)
        )
        if rendition is not None:
            return rendition
        row = await self.session.scalar(select(AssetRow).where(AssetRow.sha256 == sha256).limit(1))
        return _media_type(row) if row is not None else None

    async def withdrawn(self, sha256: str) -> bool:
        """True when every asset this blob belongs to (as its original or a
        derived file) is revoked: it is served to nobody, edges included.
        Blobs no asset owns (alert resources) are not withdrawn."""
        as_original = select(AssetRow.review_state).where(AssetRow.sha256 == sha256)
        as_derived = (
            select(AssetRow.review_state)
            .join(RenditionRow, RenditionRow.asset_id == AssetRow.id)
            .where(RenditionRow.sha256 == sha256)
        )
        states = set((await self.session.scalars(as_original.union(as_derived))).all())
        return states == {ReviewState.REVOKED.value}

    async def rendition_owner(self, sha256: str) -> str | None:
        """The asset a derived file belongs to (for serving it)."""
        return await self.session.scalar(
            select(RenditionRow.asset_id).where(RenditionRow.sha256 == sha256).limit(1)
        )


# FFmpeg demuxer / Pillow format names → media types (first match wins).
_MEDIA_TYPES: tuple[tuple[str, str, str], ...] = (
    ("image", "png", "image/png"),
    ("image", "webp", "image/webp"),
    ("image", "gif", "image/gif"),
    ("image", "tiff", "image/tiff"),
    ("image", "bmp", "image/bmp"),
    ("image", "", "image/jpeg"),
    ("audio", "wav", "audio/wav"),
    ("audio", "mp3", "audio/mpeg"),
    ("audio", "flac", "audio/flac"),
    ("audio", "ogg", "audio/ogg"),
    ("audio", "", "audio/mp4"),
    ("video", "webm", "video/webm"),
    ("video", "matroska", "video/x-matroska"),
    ("video", "mpegts", "video/mp2t"),
    ("video", "", "video/mp4"),
)


def _media_type(row: AssetRow) -> str:
    container = str((row.probe or {}).get("container") or "").lower()
    for kind, marker, media_type in _MEDIA_TYPES:
        if row.kind == kind and marker in container:
            return media_type
    return "application/octet-stream"
