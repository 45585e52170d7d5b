"""Monitoring tables: play logs and their hourly rollups, presence
transitions, the latest screenshot per screen, alarms, the manifest
versions that were in force (play-log checks) and the server's own runs.

Kept apart from ``tables.py`` (same ``Base``, so one metadata and one
migration chain). Terminal ids are not foreign keys here: proof of play and
alarms are records that outlive a retired screen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from lianbo.adapters.db.tables import Base


class PlayLogRow(Base):
    """One proof-of-play entry as a terminal reported it (as-run log)."""

    __tablename__ = "play_log"
    __table_args__ = (
        Index("ix_play_log_terminal_started", "terminal_id", "started_at"),
        # Retention's index (migration 0006): on SQLite the UTC hour of the
        # stored text, so a batch writes one index page per hour, not per row.
        Index("ix_play_log_started_hour", text("substr(started_at, 1, 13)")).ddl_if("sqlite"),
        Index("ix_play_log_started_at", "started_at").ddl_if("postgresql"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    terminal_id: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    asset_id: Mapped[str | None] = mapped_column(String(32))
    schedule_id: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    received_at: Mapped[datetime]
    verdict: Mapped[str] = mapped_column(String(12))  # ok | unauthorised


class PlayRollupRow(Base):
    """Plays and seconds on air per hour, region, tier and asset (reports)."""

    __tablename__ = "play_rollups"

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    tier: Mapped[str] = mapped_column(String(8), primary_key=True)
    asset_key: Mapped[str] = mapped_column(String(64), primary_key=True)  # asset id or sha256
    plays: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)


class PresenceRow(Base):
    """A screen went down (``offline``) or came back (``online``) at ``at``."""

    __tablename__ = "presence_log"
    __table_args__ = (Index("ix_presence_log_region_at", "region_code", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    terminal_id: Mapped[str] = mapped_column(String(32), index=True)
    region_code: Mapped[str] = mapped_column(String(12))
    tier: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime]


class ScreenshotRow(Base):
    """The latest screenshot of each screen and its verdict (monitoring wall)."""

    __tablename__ = "terminal_screenshots"

    terminal_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(16))
    taken_at: Mapped[datetime]
    received_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(12))
    verdict: Mapped[str] = mapped_column(String(12))
    distance: Mapped[int | None] = mapped_column(Integer)
    phash: Mapped[str] = mapped_column(String(16))  # hex: 64 bits do not fit a signed BIGINT
    expected: Mapped[dict[str, Any] | None]


class AlarmRow(Base):
    """An alarm and its lifecycle; ``count`` is how often the condition was seen."""

    __tablename__ = "alarms"
    __table_args__ = (
        Index("ix_alarms_state_region", "state", "region_code", "opened_at"),
        Index("ix_alarms_terminal_type", "terminal_id", "type", "state"),
        # At most one live alarm per terminal and type, whichever process
        # opens it (migration 0008, ADR 0011).
        Index(
            "ux_alarms_live",
            "terminal_id",
            "type",
            unique=True,
            postgresql_where=text("state <> 'resolved'"),
            sqlite_where=text("state <> 'resolved'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    type: Mapped[str] = mapped_column(String(24))
    severity: Mapped[str] = mapped_column(String(12))
    terminal_id: Mapped[str] = mapped_column(String(32))
    region_code: Mapped[str] = mapped_column(String(12))
    tier: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(14))
    opened_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    evidence: Mapped[dict[str, Any]]
    count: Mapped[int] = mapped_column(Integer, default=1)


class ScreenQuadRow(Base):
    """Where a screen's monitoring camera sees it: the screen's corners (TL, TR,
    BR, BL) in the camera picture's pixels, for registering camera shots."""

    __tablename__ = "terminal_screen_quads"

    terminal_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    quad: Mapped[list[list[float]]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class ManifestHistoryRow(Base):
    """A manifest version an audience had, and when it was in force:
    ``[in_force_from, in_force_until)``. ``body`` is the manifest cut to what
    was in force then (timeline entries overlapping the span, their playlists
    and files): what play-log checks judge a row of that span by."""

    __tablename__ = "manifest_history"
    __table_args__ = (
        Index("ix_manifest_history_audience_until", "audience_key", "in_force_until"),
        Index("ix_manifest_history_in_force_until", "in_force_until"),  # retention
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    audience_key: Mapped[str] = mapped_column(String(32))
    version: Mapped[str] = mapped_column(String(64))
    in_force_from: Mapped[datetime]
    in_force_until: Mapped[datetime]
    body: Mapped[str] = mapped_column(Text)  # canonical JSON


class ServerRunRow(Base):
    """One run of a server process: when it was ready, when it was last
    known alive (stamped every ``ALIVE_S``), and the newest alive stamp of
    any earlier run when it started (the start of an outage, if any)."""

    __tablename__ = "server_runs"
    __table_args__ = (Index("ix_server_runs_alive_at", "alive_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    process: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime]
    alive_at: Mapped[datetime]
    previous_alive_at: Mapped[datetime | None]


class WebhookDeliveryRow(Base):
    """One alarm webhook to send (the transactional outbox, ADR 0016): written
    in the transaction that changed the alarm, sent by the leader's sender.
    ``state`` is pending, sent or dead; ``done_at`` when it became sent or
    dead (retention counts from it); ``last_error`` a short code."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_done_at", "done_at"),  # retention
    )

    # ``seq`` orders deliveries queued at one instant (one transaction's);
    # ``id`` is the receiver's Idempotency-Key.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[str] = mapped_column(String(32), unique=True)
    url: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(8))
    done_at: Mapped[datetime | None]
