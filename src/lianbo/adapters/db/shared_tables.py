"""State every process of one deployment shares: login failures, the
control centre's public signing keys (ADR 0014), idempotency keys (ADR 0015)
and the commands sent to screens with their acknowledgements."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from lianbo.adapters.db.tables import Base

_ID = BigInteger().with_variant(Integer(), "sqlite")


class LoginFailureRow(Base):
    """One failed login. ``key`` is a digest of (username, address): the
    limit holds across processes without keeping what people typed."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_key_failed_at", "key", "failed_at"),
        Index("ix_login_failures_failed_at", "failed_at"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime]


class SigningKeyRow(Base):
    """A public signing key of the control centre: trusted while it is in the
    current key set, kept after retirement (``retired_at``) so what it signed
    can still be checked. Private keys never enter the store."""

    __tablename__ = "signing_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))  # raw 32 bytes, base64
    added_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]


class KeySetRow(Base):
    """A signed key set (``protocol/keyset.py``) as sent to screens; the
    highest serial is the current one."""

    __tablename__ = "key_sets"

    serial: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    issued_at: Mapped[datetime]
    key_set: Mapped[str] = mapped_column(Text)  # the exact signed text
    signatures: Mapped[dict[str, Any]] = mapped_column(JSON)  # key_id -> base64


class IdempotencyKeyRow(Base):
    """A client's ``Idempotency-Key`` with the outcome of the act it came with
    (ADR 0015), written in the act's own transaction: kept with the act or
    not at all. The primary key makes a second request with the same key
    wait for the first and then find its outcome."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_expires_at", "expires_at"),)

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    act: Mapped[str] = mapped_column(String(40))  # "alert.issue", like the audit action
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 hex of act + body
    status: Mapped[int] = mapped_column(Integer)
    resource_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class TerminalCommandRow(Base):
    """A command sent to one screen (its audit entry is the record of the
    act): whether a process handed it to the screen's connection, and when
    the screen acknowledged it, whichever process heard the ack."""

    __tablename__ = "terminal_commands"
    __table_args__ = (Index("ix_terminal_commands_terminal_id_sent_at", "terminal_id", "sent_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    terminal_id: Mapped[str] = mapped_column(ForeignKey("terminals.id"))
    command: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    delivered: Mapped[bool] = mapped_column(Boolean, server_default=false())
    acked_at: Mapped[datetime | None]
