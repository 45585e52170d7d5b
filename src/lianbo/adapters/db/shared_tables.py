"""State every process of one deployment shares: login failures and the
control centre's public signing keys (ADR 0014)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
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
