"""emergency alerts

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lianbo.adapters.db.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _time(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("identifier", sa.String(length=255), nullable=False),
        _time("sent", nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("msg_type", sa.String(length=8), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=255), nullable=False),
        sa.Column("area", sa.JSON(), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        _time("onset"),
        _time("expires", nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("issuer", sa.String(length=64), nullable=False),
        sa.Column("issuer_id", sa.String(length=32), nullable=False),
        sa.Column("confirmed_by", sa.String(length=64), nullable=True),
        sa.Column("region", sa.String(length=12), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("replaces", sa.JSON(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("targeted", sa.Integer(), nullable=False),
        sa.Column("notice", sa.Text(), nullable=True),
        sa.Column("signature", sa.String(length=128), nullable=True),
        sa.Column("key_id", sa.String(length=64), nullable=True),
        sa.Column("cancel_notice", sa.Text(), nullable=True),
        sa.Column("cancel_signature", sa.String(length=128), nullable=True),
        sa.Column("cancel_key_id", sa.String(length=64), nullable=True),
        sa.Column("cap_xml", sa.Text(), nullable=False),
        _time("created_at", nullable=False),
        _time("activated_at"),
        _time("ended_at"),
        sa.Column("superseded_by", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index(
        "uq_alerts_sender_identifier_sent",
        "alerts",
        ["sender", "identifier", "sent"],
        unique=True,
    )
    op.create_index("ix_alerts_state_expires", "alerts", ["state", "expires"])
    op.create_index("ix_alerts_region_created_at", "alerts", ["region", "created_at"])
    op.create_table(
        "alert_references",
        sa.Column("alert_id", sa.String(length=32), nullable=False),
        sa.Column("referenced_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_alert_references_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["referenced_id"],
            ["alerts.id"],
            name=op.f("fk_alert_references_referenced_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alert_id", "referenced_id", name=op.f("pk_alert_references")),
    )
    op.create_index("ix_alert_references_referenced_id", "alert_references", ["referenced_id"])
    op.create_table(
        "alert_deliveries",
        sa.Column("alert_id", sa.String(length=32), nullable=False),
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("region", sa.String(length=12), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        _time("sent_at", nullable=False),
        _time("received_at"),
        _time("verified_at"),
        _time("displayed_at"),
        _time("outside_area_at"),
        _time("failed_at"),
        _time("cancelled_at"),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_alert_deliveries_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alert_id", "terminal_id", name=op.f("pk_alert_deliveries")),
    )
    op.create_index(
        "ix_alert_deliveries_alert_state",
        "alert_deliveries",
        ["alert_id", "state", "terminal_id"],
    )
    op.create_index(
        "ix_alert_deliveries_alert_tier_region",
        "alert_deliveries",
        ["alert_id", "tier", "region", "state"],
    )
    op.create_index("ix_alert_deliveries_terminal", "alert_deliveries", ["terminal_id", "alert_id"])


def downgrade() -> None:
    op.drop_table("alert_deliveries")
    op.drop_table("alert_references")
    op.drop_table("alerts")
