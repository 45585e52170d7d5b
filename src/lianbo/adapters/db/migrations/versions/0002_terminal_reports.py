"""terminal status reports

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lianbo.adapters.db.tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "terminal_reports",
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column(
            "reported_at", lianbo.adapters.db.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("status", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["terminal_id"],
            ["terminals.id"],
            name=op.f("fk_terminal_reports_terminal_id_terminals"),
        ),
        sa.PrimaryKeyConstraint("terminal_id", name=op.f("pk_terminal_reports")),
    )


def downgrade() -> None:
    op.drop_table("terminal_reports")
