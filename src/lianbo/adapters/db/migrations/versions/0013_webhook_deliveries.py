"""webhook deliveries: the alarm webhooks' transactional outbox (ADR 0016)

``webhook_deliveries``: one row per alarm event and URL, written in the
transaction that opened, acknowledged or resolved the alarm, sent (and
retried) by the leader's sender; sent and dead rows are deleted after
``LIANBO_WEBHOOK_RETENTION_DAYS``.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lianbo.adapters.db.tables import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("seq", _ID, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _time("created_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("next_attempt_at"),
        sa.Column("last_error", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=8), nullable=False),
        _time("done_at", nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("id", name=op.f("uq_webhook_deliveries_id")),
    )
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["state", "next_attempt_at"])
    op.create_index("ix_webhook_deliveries_done_at", "webhook_deliveries", ["done_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_done_at", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_due", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
