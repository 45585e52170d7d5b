"""screen quads: where a monitoring camera sees each screen

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lianbo.adapters.db.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "terminal_screen_quads",
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("quad", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("terminal_id", name=op.f("pk_terminal_screen_quads")),
    )


def downgrade() -> None:
    op.drop_table("terminal_screen_quads")
