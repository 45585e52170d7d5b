"""Batch reads for pages that show many assets at once.

``AssetRepository`` answers one asset at a time (its renditions, its
history); a grid of 24 cards or a queue of 50 rows would then cost one query
per row. These answer a whole page in one query each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.tables import AssetRow, RenditionRow, ReviewStepRow


@dataclass
class QueueFacts:
    """What a reviewer wants to see about an asset before opening it."""

    submitted_by: str = ""
    submitted_at: datetime | None = None
    passed: list[tuple[int, str]] = field(default_factory=list)  # (level, reviewer)
    you_passed: bool = False
    findings: int = 0
    errors: int = 0
    hits: int = 0


class AssetPageReads:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def posters(self, asset_ids: Iterable[str]) -> dict[str, str]:
        """The poster rendition's sha256 per asset that has one."""
        ids = list(set(asset_ids))
        if not ids:
            return {}
        rows = await self.session.execute(
            select(RenditionRow.asset_id, RenditionRow.sha256).where(
                RenditionRow.asset_id.in_(ids), RenditionRow.name == "poster"
            )
        )
        return {str(asset_id): str(sha) for asset_id, sha in rows.all()}

    async def qc_stages(self, asset_ids: Iterable[str]) -> dict[str, str]:
        """What the QC job is doing per asset (for the progress bars)."""
        ids = list(set(asset_ids))
        if not ids:
            return {}
        rows = await self.session.execute(
            select(AssetRow.id, AssetRow.qc_stage).where(AssetRow.id.in_(ids))
        )
        return {str(asset_id): str(stage) for asset_id, stage in rows.all() if stage}

    async def queue_facts(self, rounds: dict[str, int], viewer_id: str) -> dict[str, QueueFacts]:
        """Per asset (id -> current review round): who submitted, who passed, counts."""
        if not rounds:
            return {}
        facts = {asset_id: QueueFacts() for asset_id in rounds}
        steps = await self.session.scalars(
            select(ReviewStepRow)
            .where(ReviewStepRow.asset_id.in_(list(rounds)))
            .order_by(ReviewStepRow.id)
        )
        for step in steps.all():
            if step.round != rounds[step.asset_id]:
                continue
            fact = facts[step.asset_id]
            if step.action == "submit":
                fact.submitted_by, fact.submitted_at = step.actor, step.at
            elif step.action == "approve" and step.level is not None:
                fact.passed.append((step.level, step.actor))
                fact.you_passed = fact.you_passed or step.actor_id == viewer_id
        reports = await self.session.execute(
            select(AssetRow.id, AssetRow.qc, AssetRow.screening).where(
                AssetRow.id.in_(list(rounds))
            )
        )
        for asset_id, qc, screening in reports.all():
            findings = _list(qc, "findings")
            facts[asset_id].findings = len(findings)
            facts[asset_id].errors = sum(1 for f in findings if f.get("severity") == "error")
            facts[asset_id].hits = len(_list(screening, "hits"))
        return facts


def _list(report: dict[str, Any] | None, key: str) -> list[dict[str, Any]]:
    found = (report or {}).get(key)
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []
