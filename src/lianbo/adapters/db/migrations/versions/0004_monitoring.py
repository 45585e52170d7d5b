"""monitoring: play logs, screenshots, alarms

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lianbo.adapters.db.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "play_log",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("asset_id", sa.String(length=32), nullable=True),
        sa.Column("schedule_id", sa.String(length=32), nullable=True),
        _time("started_at"),
        _time("ended_at"),
        _time("received_at"),
        sa.Column("verdict", sa.String(length=12), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_play_log")),
    )
    op.create_index("ix_play_log_terminal_started", "play_log", ["terminal_id", "started_at"])
    op.create_index(op.f("ix_play_log_started_at"), "play_log", ["started_at"])
    op.create_table(
        "play_rollups",
        _time("hour"),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("asset_key", sa.String(length=64), nullable=False),
        sa.Column("plays", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "hour", "region_code", "tier", "asset_key", name=op.f("pk_play_rollups")
        ),
    )
    op.create_table(
        "presence_log",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        _time("at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_presence_log")),
    )
    op.create_index("ix_presence_log_region_at", "presence_log", ["region_code", "at"])
    op.create_index(op.f("ix_presence_log_terminal_id"), "presence_log", ["terminal_id"])
    op.create_table(
        "terminal_screenshots",
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=16), nullable=False),
        _time("taken_at"),
        _time("received_at"),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("verdict", sa.String(length=12), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=True),
        sa.Column("phash", sa.String(length=16), nullable=False),
        sa.Column("expected", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("terminal_id", name=op.f("pk_terminal_screenshots")),
    )
    op.create_table(
        "alarms",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("severity", sa.String(length=12), nullable=False),
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=14), nullable=False),
        _time("opened_at"),
        _time("acknowledged_at", True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        _time("resolved_at", True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms")),
    )
    op.create_index("ix_alarms_state_region", "alarms", ["state", "region_code", "opened_at"])
    op.create_index("ix_alarms_terminal_type", "alarms", ["terminal_id", "type", "state"])


def downgrade() -> None:
    for table in ("alarms", "terminal_screenshots", "presence_log", "play_rollups", "play_log"):
        op.drop_table(table)
