"""manifest history and server runs (ADR 0006)

- ``manifests.in_force_from``: since when an audience's current version is
  in force (existing rows: their ``built_at``, the best known).
- ``manifest_history``: the versions before it, each with the span it was in
  force, so a play is judged by the manifest of its moment.
- ``server_runs``: each server run's ready time and alive stamp, so a start
  knows how long the server was down.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lianbo.adapters.db.tables import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.add_column("manifests", _time("in_force_from", nullable=True))
    op.execute("UPDATE manifests SET in_force_from = built_at")
    op.create_table(
        "manifest_history",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("audience_key", sa.String(length=32), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        _time("in_force_from"),
        _time("in_force_until"),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manifest_history")),
    )
    op.create_index(
        "ix_manifest_history_audience_until",
        "manifest_history",
        ["audience_key", "in_force_until"],
    )
    op.create_index("ix_manifest_history_in_force_until", "manifest_history", ["in_force_until"])
    op.create_table(
        "server_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("process", sa.String(length=200), nullable=False),
        _time("started_at"),
        _time("alive_at"),
        _time("previous_alive_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_runs")),
    )
    op.create_index("ix_server_runs_alive_at", "server_runs", ["alive_at"])


def downgrade() -> None:
    op.drop_index("ix_server_runs_alive_at", table_name="server_runs")
    op.drop_table("server_runs")
    op.drop_index("ix_manifest_history_in_force_until", table_name="manifest_history")
    op.drop_index("ix_manifest_history_audience_until", table_name="manifest_history")
    op.drop_table("manifest_history")
    with op.batch_alter_table("manifests") as batch:  # SQLite drops a column by copying
        batch.drop_column("in_force_from")
