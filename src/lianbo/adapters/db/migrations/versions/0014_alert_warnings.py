"""alert warnings and awaited messages

``alerts.warnings``: a JSON list of ``{path, code, detail}`` (an empty
``<restriction/>``, a geocode scheme we do not target by, a CAP 1.1 message
read as 1.2, an Update or Cancel of a message never received), shown on
the alert (docs/alerts.md, "Errors and warnings"). Null on alerts taken in
before this revision: they had none, or they were refused.

``alert_awaited``: the messages an Update or Cancel names that we never
received, by CAP key; when one arrives it is linked to the alert waiting
for it and arrives superseded or cancelled.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lianbo.adapters.db.tables import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("warnings", sa.JSON(), nullable=True))
    op.create_table(
        "alert_awaited",
        sa.Column("alert_id", sa.String(length=32), nullable=False),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("identifier", sa.String(length=255), nullable=False),
        sa.Column("sent", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_alert_awaited_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "alert_id", "sender", "identifier", "sent", name=op.f("pk_alert_awaited")
        ),
    )
    op.create_index("ix_alert_awaited_key", "alert_awaited", ["sender", "identifier", "sent"])


def downgrade() -> None:
    op.drop_index("ix_alert_awaited_key", table_name="alert_awaited")
    op.drop_table("alert_awaited")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("warnings")
