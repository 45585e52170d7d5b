"""API shapes for playlists, schedules and "what plays where"."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, Field

from lianbo.api.schemas import Label, Strict
from lianbo.api.text import Line
from lianbo.domain.playlists import Fit
from lianbo.domain.schedules import PriorityClass, ScheduleState
from lianbo.domain.terminals import Tier


class PlaylistItemIn(Strict):
    asset_id: Line = Field(max_length=32)
    duration_ms: int | None = Field(default=None, ge=1000, le=86_400_000)
    fit: Fit = Fit.CONTAIN


class PlaylistIn(Strict):
    name: Line = Field(max_length=200)
    items: list[PlaylistItemIn] = Field(max_length=500)


class PlaylistItemOut(BaseModel):
    asset_id: str
    duration_ms: int
    fit: Fit


class PlaylistOut(BaseModel):
    id: str
    name: str
    region: str
    items: list[PlaylistItemOut]
    length_ms: int


class TargetsIn(Strict):
    regions: list[Annotated[Line, Field(max_length=12)]] = Field(max_length=200)
    tiers: list[Tier] = Field(default_factory=list, max_length=3)
    groups: list[Label] = Field(default_factory=list, max_length=32)
    tags: list[Label] = Field(default_factory=list, max_length=32)


class WindowIn(Strict):
    start: Line = Field(max_length=5)
    end: Line = Field(max_length=5)


class ScheduleIn(Strict):
    name: Line = Field(max_length=200)
    playlist_id: Line = Field(max_length=32)
    targets: TargetsIn
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    rrule: Line | None = Field(default=None, max_length=500)
    daily_window: WindowIn | None = None
    timezone: Line = Field(default="Asia/Shanghai", max_length=64)
    priority: PriorityClass
    sync: bool = False


class ScheduleOut(BaseModel):
    id: str
    name: str
    playlist_id: str
    targets: dict[str, list[str]]
    starts_at: datetime
    ends_at: datetime
    rrule: str | None
    daily_window: dict[str, str] | None
    timezone: str
    priority: PriorityClass
    sync: bool
    state: ScheduleState
    published_at: datetime | None
    region: str


class TimelineEntryOut(BaseModel):
    start: datetime
    end: datetime
    schedule_id: str | None
    schedule_name: str | None
    priority: str
    sync: bool
    reason: str
    items: list[dict[str, Any]]
