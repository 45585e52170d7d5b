"""one live alarm per terminal and type (ADR 0011)

Two processes could each open the same alarm (their alarm books are their
own memory); the store now refuses the second: a partial unique index on
(terminal_id, type) over alarms not resolved. Duplicates already stored
are resolved first: of each terminal and type the earliest live alarm
stays, the others are resolved by ``system`` at their own opening time.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LIVE = "state <> 'resolved'"

RESOLVE_DUPLICATES = f"""
UPDATE alarms SET state = 'resolved', resolved_at = opened_at, resolved_by = 'system'
WHERE {LIVE} AND EXISTS (
    SELECT 1 FROM alarms AS first
    WHERE first.terminal_id = alarms.terminal_id AND first.type = alarms.type
      AND first.{LIVE}
      AND (first.opened_at < alarms.opened_at
           OR (first.opened_at = alarms.opened_at AND first.id < alarms.id))
)
"""


def upgrade() -> None:
    op.execute(RESOLVE_DUPLICATES)
    op.create_index(
        "ux_alarms_live",
        "alarms",
        ["terminal_id", "type"],
        unique=True,
        postgresql_where=sa.text(LIVE),
        sqlite_where=sa.text(LIVE),
    )


def downgrade() -> None:
    op.drop_index("ux_alarms_live", table_name="alarms")
