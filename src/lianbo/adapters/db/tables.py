"""Tables. Kept inside the adapter: the domain never sees these classes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, also on SQLite (which stores naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class RegionRow(Base):
    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    parent_code: Mapped[str | None] = mapped_column(String(12), index=True)
    level: Mapped[int] = mapped_column(Integer)
    full_name: Mapped[str] = mapped_column(String(400))
    builtin: Mapped[bool] = mapped_column(Boolean, default=True)
    urban_rural: Mapped[str | None] = mapped_column(String(3))  # villages (migration 0016)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    created_at: Mapped[datetime]


class TokenRow(Base):
    """Bearer tokens and console sessions; only their sha256 is kept."""

    __tablename__ = "tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class TerminalRow(Base):
    __tablename__ = "terminals"
    __table_args__ = (
        # Covering index for filtered counts: status and tier are always given
        # as IN lists, so each combination is one range seek on region_code.
        Index("ix_terminals_scope", "status", "tier", "region_code", "labels"),
        Index("ix_terminals_region_name", "region_code", "name"),
        # Covering index for "which distinct audiences live in this subtree".
        Index("ix_terminals_audience", "region_code", "audience_key", "status", "tier", "labels"),
        Index(
            "uq_terminals_live_name",
            "region_code",
            "name",
            unique=True,
            sqlite_where=text("status != 'retired'"),
            postgresql_where=text("status != 'retired'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    tier: Mapped[str] = mapped_column(String(8))
    region_code: Mapped[str] = mapped_column(String(12))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    # Tags and groups as " tag:a tag:b group:x ": matched with LIKE inside the
    # covering index, so a tag filter never needs a join (see repos/terminals).
    labels: Mapped[str] = mapped_column(String(2800), default=" ")
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    enrolled_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]
    audience_key: Mapped[str] = mapped_column(String(32))


class EnrolmentCodeRow(Base):
    __tablename__ = "enrolment_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    terminal_id: Mapped[str] = mapped_column(
        ForeignKey("terminals.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class AuditRow(Base):
    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(48), index=True)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64), index=True)
    region: Mapped[str] = mapped_column(String(12), index=True)
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    address: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """The newest entry's seq and hash; its row lock serialises appends."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


__all__ = [
    "AuditHeadRow",
    "AuditRow",
    "Base",
    "EnrolmentCodeRow",
    "RegionRow",
    "TerminalRow",
    "TokenRow",
    "UserRow",
]


class AssetRow(Base):
    """A media file, ticker or stream; files are content-addressed."""

    __tablename__ = "assets"
    __table_args__ = (
        Index("ix_assets_scope", "region_code", "review_state", "kind"),
        Index("uq_assets_region_sha256", "region_code", "sha256", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8))
    region_code: Mapped[str] = mapped_column(String(12))
    owner_id: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    size: Mapped[int | None] = mapped_column(BigInteger)
    text: Mapped[str | None] = mapped_column(String(2000))
    url: Mapped[str | None] = mapped_column(String(2000))
    review_state: Mapped[str] = mapped_column(String(12))
    review_round: Mapped[int] = mapped_column(Integer, default=0)
    qc_status: Mapped[str] = mapped_column(String(12), index=True)
    qc_progress: Mapped[float] = mapped_column(Float, default=0.0)
    qc_stage: Mapped[str | None] = mapped_column(String(40))
    qc_error: Mapped[str | None] = mapped_column(String(500))
    probe: Mapped[dict[str, Any] | None]
    qc: Mapped[dict[str, Any] | None]
    screening: Mapped[dict[str, Any] | None]
    fit_tiers: Mapped[str] = mapped_column(String(40), default="")
    phash_track: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ReviewStepRow(Base):
    __tablename__ = "review_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(8))
    level: Mapped[int | None] = mapped_column(Integer)
    actor_id: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime]


class RenditionRow(Base):
    """A derived file of an asset: a per-tier rendition, a poster, a sprite."""

    __tablename__ = "renditions"

    asset_id: Mapped[str] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(24), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)


class UploadRow(Base):
    """A resumable (tus 1.0) upload in progress."""

    __tablename__ = "uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(32), index=True)
    region_code: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(200))
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    asset_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class PlaylistRow(Base):
    __tablename__ = "playlists"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    owner_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PlaylistItemRow(Base):
    __tablename__ = "playlist_items"

    playlist_id: Mapped[str] = mapped_column(
        ForeignKey("playlists.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id"), index=True)
    duration_ms: Mapped[int] = mapped_column(Integer)
    fit: Mapped[str] = mapped_column(String(8))


class ScheduleRow(Base):
    __tablename__ = "schedules"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    playlist_id: Mapped[str] = mapped_column(ForeignKey("playlists.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    owner_id: Mapped[str] = mapped_column(String(32))
    targets: Mapped[dict[str, Any]]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime] = mapped_column(index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    rrule: Mapped[str | None] = mapped_column(String(500))
    daily_start: Mapped[str | None] = mapped_column(String(5))
    daily_end: Mapped[str | None] = mapped_column(String(5))
    priority: Mapped[str] = mapped_column(String(12))
    sync: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(12), index=True)
    published_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class ManifestRow(Base):
    """The signed manifest of one audience (terminals sharing targeting facts)."""

    __tablename__ = "manifests"

    audience_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    audience: Mapped[dict[str, Any]]
    version: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly as signed
    signature: Mapped[str] = mapped_column(String(100))
    key_id: Mapped[str] = mapped_column(String(32))
    built_at: Mapped[datetime]
    # Since when this version is the one in force (a rebuild that keeps the
    # version keeps it); the versions before it are in ``manifest_history``.
    in_force_from: Mapped[datetime | None]


class TerminalReportRow(Base):
    """The latest status a terminal reported (heartbeat body or push ``status``)."""

    __tablename__ = "terminal_reports"

    terminal_id: Mapped[str] = mapped_column(ForeignKey("terminals.id"), primary_key=True)
    reported_at: Mapped[datetime]
    status: Mapped[dict[str, Any]]
