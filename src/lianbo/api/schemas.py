"""API request and response shapes (their own classes, not the tables)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from lianbo.api.text import Line
from lianbo.domain.roles import Role
from lianbo.domain.terminals import LABEL_MAX, NAME_MAX, Terminal, TerminalStatus, Tier
from lianbo.domain.users import User

T = TypeVar("T")

Label = Annotated[Line, Field(max_length=LABEL_MAX)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int


class TokenRequest(Strict):
    username: Line = Field(max_length=64)
    password: Line = Field(max_length=256)


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
    username: Line = Field(max_length=64)
    password: Line = Field(max_length=256)
    role: Role
    region: Line = Field(max_length=12)
    display_name: Line = Field(default="", max_length=120)


class UserPatch(Strict):
    role: Role | None = None
    region: Line | None = Field(default=None, max_length=12)
    display_name: Line | None = Field(default=None, max_length=120)
    active: bool | None = None
    password: Line | None = Field(default=None, max_length=256)


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
    code: Line = Field(max_length=12)
    name: Line = Field(max_length=80)


class TerminalCreate(Strict):
    name: Line = Field(max_length=NAME_MAX)
    tier: Tier
    region: Line = Field(max_length=12)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    tags: list[Label] = Field(default_factory=list, max_length=32)
    groups: list[Label] = Field(default_factory=list, max_length=32)


class TerminalPatch(Strict):
    name: Line | None = Field(default=None, max_length=NAME_MAX)
    tier: Tier | None = None
    region: Line | None = Field(default=None, max_length=12)
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
    code: Line = Field(max_length=32)


class PublicKeyOut(BaseModel):
    key_id: str
    public_key: str


class EnrolResponse(BaseModel):
    terminal_id: str
    token: str
    keys: list[PublicKeyOut]
    # The targeting facts (region, tier, groups, tags) the terminal's manifests
    # carry: a player refuses a manifest made for another audience.
    audience: dict[str, object]


class KeysResponse(BaseModel):
    keys: list[PublicKeyOut]


class HeartbeatReply(BaseModel):
    server_time: datetime
    heartbeat_seconds: int
    audience: dict[str, object]  # current, so an edited terminal's player follows


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
    anchors: int = 0  # signed anchors compared with the chain
    anchored_seq: int = 0  # the newest anchored entry (later ones are not anchored yet)


TokenResponse.model_rebuild()
