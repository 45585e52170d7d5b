"""API request and response shapes (their own classes, not the tables)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from lianbo.domain.assets import Asset
from lianbo.domain.media import AssetKind
from lianbo.domain.playlists import Fit
from lianbo.domain.review import Decision, ReviewState
from lianbo.domain.roles import Role
from lianbo.domain.schedules import PriorityClass, ScheduleState
from lianbo.domain.terminals import LABEL_MAX, NAME_MAX, Terminal, TerminalStatus, Tier
from lianbo.domain.users import User

T = TypeVar("T")

Label = Annotated[str, Field(max_length=LABEL_MAX)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int


class TokenRequest(Strict):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class TokenResponse(BaseModel):
    token: str
    token_type: str = "bearer"
    expires_in: int
    user: UserOut


class UserOut(BaseModel):
    id: str
    username: str
    display_name: str
    role: Role
    region: str
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=user.role,
            region=user.region,
            active=user.active,
            created_at=user.created_at,
        )


class UserCreate(Strict):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)
    role: Role
    region: str = Field(max_length=12)
    display_name: str = Field(default="", max_length=120)


class UserPatch(Strict):
    role: Role | None = None
    region: str | None = Field(default=None, max_length=12)
    display_name: str | None = Field(default=None, max_length=120)
    active: bool | None = None
    password: str | None = Field(default=None, max_length=256)


class RegionOut(BaseModel):
    code: str
    full_code: str
    name: str
    full_name: str
    parent: str | None
    level: int
    terminals: int | None = None
    has_children: bool | None = None


class RegionCreate(Strict):
    code: str = Field(max_length=12)
    name: str = Field(max_length=80)


class TerminalCreate(Strict):
    name: str = Field(max_length=NAME_MAX)
    tier: Tier
    region: str = Field(max_length=12)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    tags: list[Label] = Field(default_factory=list, max_length=32)
    groups: list[Label] = Field(default_factory=list, max_length=32)


class TerminalPatch(Strict):
    name: str | None = Field(default=None, max_length=NAME_MAX)
    tier: Tier | None = None
    region: str | None = Field(default=None, max_length=12)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    tags: list[Label] | None = Field(default=None, max_length=32)
    groups: list[Label] | None = Field(default=None, max_length=32)


class TerminalOut(BaseModel):
    id: str
    name: str
    tier: Tier
    region: str
    latitude: float
    longitude: float
    status: TerminalStatus
    tags: list[str]
    groups: list[str]
    created_at: datetime
    updated_at: datetime
    enrolled_at: datetime | None
    last_seen_at: datetime | None
    retired_at: datetime | None

    @classmethod
    def of(cls, t: Terminal) -> TerminalOut:
        return cls(
            id=t.id,
            name=t.name,
            tier=t.tier,
            region=t.region,
            latitude=t.latitude,
            longitude=t.longitude,
            status=t.status,
            tags=list(t.tags),
            groups=list(t.groups),
            created_at=t.created_at,
            updated_at=t.updated_at,
            enrolled_at=t.enrolled_at,
            last_seen_at=t.last_seen_at,
            retired_at=t.retired_at,
        )


class TerminalCreated(TerminalOut):
    enrolment_code: str
    enrolment_code_expires_at: datetime


class ImportedTerminal(BaseModel):
    id: str
    name: str
    region: str
    enrolment_code: str


class ImportResult(BaseModel):
    created: int
    enrolment_code_expires_at: datetime
    items: list[ImportedTerminal]


class EnrolRequest(Strict):
    code: str = Field(max_length=32)


class PublicKeyOut(BaseModel):
    key_id: str
    public_key: str


class EnrolResponse(BaseModel):
    terminal_id: str
    token: str
    keys: list[PublicKeyOut]


class KeysResponse(BaseModel):
    keys: list[PublicKeyOut]


class HeartbeatReply(BaseModel):
    server_time: datetime
    heartbeat_seconds: int


class AuditOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    region: str
    before: dict[str, object] | None
    after: dict[str, object] | None
    address: str | None
    hash: str
    prev_hash: str


class AuditVerifyOut(BaseModel):
    ok: bool
    checked: int
    broken_seq: int | None
    reason: str | None


TokenResponse.model_rebuild()


class AssetCreate(Strict):
    """JSON body for assets without a file: ticker text or a live stream."""

    kind: Literal["ticker", "stream"]
    name: str = Field(max_length=200)
    text: str | None = Field(default=None, max_length=2000)
    url: str | None = Field(default=None, max_length=2000)


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
    reason: str | None = Field(default=None, max_length=500)


class RevokeRequest(Strict):
    reason: str = Field(max_length=500)


class PlaylistItemIn(Strict):
    asset_id: str = Field(max_length=32)
    duration_ms: int | None = Field(default=None, ge=1000, le=86_400_000)
    fit: Fit = Fit.CONTAIN


class PlaylistIn(Strict):
    name: str = Field(max_length=200)
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
    regions: list[str] = Field(max_length=200)
    tiers: list[Tier] = Field(default_factory=list, max_length=3)
    groups: list[Label] = Field(default_factory=list, max_length=32)
    tags: list[Label] = Field(default_factory=list, max_length=32)


class WindowIn(Strict):
    start: str = Field(max_length=5)
    end: str = Field(max_length=5)


class ScheduleIn(Strict):
    name: str = Field(max_length=200)
    playlist_id: str = Field(max_length=32)
    targets: TargetsIn
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    rrule: str | None = Field(default=None, max_length=500)
    daily_window: WindowIn | None = None
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
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
