"""API shapes for the media library and its review."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from lianbo.api.schemas import Strict
from lianbo.api.text import Line, Text
from lianbo.domain.assets import Asset
from lianbo.domain.media import AssetKind
from lianbo.domain.review import Decision, ReviewState


class AssetCreate(Strict):
    """JSON body for assets without a file: ticker text or a live stream."""

    kind: Literal["ticker", "stream"]
    name: Line = Field(max_length=200)
    text: Text | None = Field(default=None, max_length=2000)
    url: Line | None = Field(default=None, max_length=2000)


class AssetOut(BaseModel):
    id: str
    name: str
    kind: AssetKind
    sha256: str | None
    size: int | None
    region: str
    review_state: ReviewState
    review_round: int
    qc_status: str
    qc_progress: float
    fit_tiers: list[str]
    text: str | None
    url: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, a: Asset) -> AssetOut:
        return cls(
            id=a.id,
            name=a.name,
            kind=a.kind,
            sha256=a.sha256,
            size=a.size,
            region=a.region,
            review_state=a.review_state,
            review_round=a.review_round,
            qc_status=a.qc_status,
            qc_progress=a.qc_progress,
            fit_tiers=list(a.fit_tiers),
            text=a.text,
            url=a.url,
            created_at=a.created_at,
            updated_at=a.updated_at,
        )


class ReviewStepOut(BaseModel):
    round: int
    action: str
    level: int | None
    actor: str
    from_state: ReviewState
    to_state: ReviewState
    reason: str | None
    at: datetime


class AssetDetailOut(AssetOut):
    probe: dict[str, Any] | None
    qc: dict[str, Any] | None
    screening: dict[str, Any] | None
    qc_stage: str | None
    qc_error: str | None
    phash_seconds: int
    renditions: list[dict[str, Any]]
    history: list[ReviewStepOut]


class ReviewRequest(Strict):
    decision: Decision
    reason: Text | None = Field(default=None, max_length=500)


class RevokeRequest(Strict):
    reason: Text = Field(max_length=500)
