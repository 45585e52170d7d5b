"""Emergency alert tables: alerts, their references, per-terminal deliveries.

Kept apart from ``tables.py`` (same ``Base``, so one metadata); the
migration is ``0003_alerts``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lianbo.adapters.db.tables import Base


class AlertRow(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        # CAP identity: the same message twice is one alert.
        Index("uq_alerts_sender_identifier_sent", "sender", "identifier", "sent", unique=True),
        # The expiry sweep and "active alerts" (terminal fetch, feed).
        Index("ix_alerts_state_expires", "state", "expires"),
        # Lists filtered by jurisdiction, newest first.
        Index("ix_alerts_region_created_at", "region", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sender: Mapped[str] = mapped_column(String(255))
    identifier: Mapped[str] = mapped_column(String(255))
    sent: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10))
    msg_type: Mapped[str] = mapped_column(String(8))
    severity: Mapped[str] = mapped_column(String(10))
    level: Mapped[int | None] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(255))
    area: Mapped[dict[str, Any]] = mapped_column(JSON)
    texts: Mapped[dict[str, Any]] = mapped_column(JSON)
    onset: Mapped[datetime | None]
    expires: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(24))
    issuer: Mapped[str] = mapped_column(String(64))
    issuer_id: Mapped[str] = mapped_column(String(32))
    confirmed_by: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(12))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    replaces: Mapped[list[str]] = mapped_column(JSON)
    topics: Mapped[list[str]] = mapped_column(JSON)
    targeted: Mapped[int] = mapped_column(Integer, default=0)
    notice: Mapped[str | None] = mapped_column(Text)
    signature: Mapped[str | None] = mapped_column(String(128))
    key_id: Mapped[str | None] = mapped_column(String(64))
    cancel_notice: Mapped[str | None] = mapped_column(Text)
    cancel_signature: Mapped[str | None] = mapped_column(String(128))
    cancel_key_id: Mapped[str | None] = mapped_column(String(64))
    cap_xml: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    activated_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    superseded_by: Mapped[str | None] = mapped_column(String(32))
    # [{path, code, detail}]: cosmetic faults accepted (migration 0014).
    warnings: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    # {state, reason, signer, fingerprint}: its XML-DSig checked on arrival
    # (migration 0015); null for an alert written here.
    cap_signature: Mapped[dict[str, str | None] | None] = mapped_column(JSON)


class AlertReferenceRow(Base):
    """An Update or Cancel names earlier alerts (CAP ``references``)."""

    __tablename__ = "alert_references"

    alert_id: Mapped[str] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    referenced_id: Mapped[str] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AlertAwaitedRow(Base):
    """A message an Update or Cancel names that we never received (CAP
    ``sender,identifier,sent``): when it arrives, it is linked to the
    referrer and arrives superseded or cancelled (migration 0014)."""

    __tablename__ = "alert_awaited"
    __table_args__ = (Index("ix_alert_awaited_key", "sender", "identifier", "sent"),)

    alert_id: Mapped[str] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    sender: Mapped[str] = mapped_column(String(255), primary_key=True)
    identifier: Mapped[str] = mapped_column(String(255), primary_key=True)
    sent: Mapped[datetime] = mapped_column(primary_key=True)


class DeliveryRow(Base):
    """One alert on one terminal: its state and when it reached each state."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        # Counts per state, and the "not yet displaying" list page by page.
        Index("ix_alert_deliveries_alert_state", "alert_id", "state", "terminal_id"),
        # Progress by tier and region: one covering index scan per alert.
        Index("ix_alert_deliveries_alert_tier_region", "alert_id", "tier", "region", "state"),
        # A terminal's own deliveries (fetch on reconnect).
        Index("ix_alert_deliveries_terminal", "terminal_id", "alert_id"),
    )

    alert_id: Mapped[str] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    terminal_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tier: Mapped[str] = mapped_column(String(8))
    region: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime]
    received_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    displayed_at: Mapped[datetime | None]
    outside_area_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class CapSenderRow(Base):
    """A CAP sender an admin has configured: the certificates its signed
    messages are checked against, and whether it must sign (ADR 0027)."""

    __tablename__ = "cap_senders"

    sender: Mapped[str] = mapped_column(String(255), primary_key=True)
    certificates: Mapped[list[str]] = mapped_column(JSON)  # PEM, each
    must_be_signed: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64))
