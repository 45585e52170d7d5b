"""play log: index the hour a row started in, not the instant (SQLite)

A batch covers minutes to hours of plays interleaved with every other
screen's, so an index on ``started_at`` took one B-tree page write per
inserted row: two thirds of a batch's cost on SQLite. Retention only needs
"rows started before the cutoff": an index on the UTC hour
(``substr(started_at, 1, 13)`` of SQLite's stored text) finds them and takes
one page write per hour a batch touches (``repos/playlog.forget_plays``).
PostgreSQL keeps its ``started_at`` index (no such write amplification).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_HOUR = "ix_play_log_started_hour"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.drop_index("ix_play_log_started_at", table_name="play_log")
    op.execute(f"CREATE INDEX {_HOUR} ON play_log (substr(started_at, 1, 13))")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.drop_index(_HOUR, table_name="play_log")
    op.create_index("ix_play_log_started_at", "play_log", ["started_at"])
