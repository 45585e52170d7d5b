"""terminal commands: what was sent to a screen and when it acknowledged it

``terminal_commands`` holds every command's delivery and acknowledgement,
written by whichever process sent it, handed it over or heard the ack (it
was in the memory of the process holding the screen's connection). The
newest commands already in the audit log are copied in (not acknowledged:
that was never stored).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from lianbo.adapters.db.tables import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

KEPT = 50  # per terminal, as services.commands.KEPT


def upgrade() -> None:
    op.create_table(
        "terminal_commands",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("command", sa.String(length=16), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("delivered", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("acked_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["terminal_id"],
            ["terminals.id"],
            name=op.f("fk_terminal_commands_terminal_id_terminals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_terminal_commands")),
    )
    op.create_index(
        "ix_terminal_commands_terminal_id_sent_at", "terminal_commands", ["terminal_id", "sent_at"]
    )
    _copy_from_audit()


def _copy_from_audit() -> None:
    """The newest ``KEPT`` commands of each terminal from the audit log."""
    audit = sa.table(
        "audit_log",
        sa.column("seq", sa.Integer()),
        sa.column("at", UTCDateTime(timezone=True)),
        sa.column("actor", sa.String()),
        sa.column("action", sa.String()),
        sa.column("target_id", sa.String()),
        sa.column("after", sa.JSON()),
    )
    terminals = sa.table("terminals", sa.column("id", sa.String()))
    query = (
        sa.select(audit.c.at, audit.c.actor, audit.c.target_id, audit.c.after)
        .where(audit.c.action == "terminal.command")
        .where(audit.c.target_id.in_(sa.select(terminals.c.id)))
        .order_by(audit.c.seq.desc())
    )
    kept: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for at, actor, terminal_id, after in op.get_bind().execute(query):
        command_id = str((after or {}).get("id", ""))[:64]
        if not command_id or command_id in seen or kept.get(terminal_id, 0) >= KEPT:
            continue
        seen.add(command_id)
        kept[terminal_id] = kept.get(terminal_id, 0) + 1
        command = str((after or {}).get("command", ""))[:16]
        rows.append(
            {
                "id": command_id,
                "terminal_id": terminal_id,
                "command": command,
                "sent_at": at,
                "actor": actor,
                "delivered": False,
                "acked_at": None,
            }
        )
    if rows:
        table = sa.table(
            "terminal_commands",
            sa.column("id", sa.String()),
            sa.column("terminal_id", sa.String()),
            sa.column("command", sa.String()),
            sa.column("sent_at", UTCDateTime(timezone=True)),
            sa.column("actor", sa.String()),
            sa.column("delivered", sa.Boolean()),
            sa.column("acked_at", UTCDateTime(timezone=True)),
        )
        op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_index("ix_terminal_commands_terminal_id_sent_at", table_name="terminal_commands")
    op.drop_table("terminal_commands")
