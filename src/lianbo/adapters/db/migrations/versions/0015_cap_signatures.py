"""CAP signatures: each alert's checked on arrival, and the senders trusted

``alerts.cap_signature``: ``{state, reason, signer, fingerprint}`` of the
message's XML-DSig as checked when it arrived (verified, unverified or
invalid; docs/alerts.md, "Signed messages"). Null on alerts written here
and on those taken in before this revision.

``cap_senders``: per CAP sender, the certificates (PEM) its signatures are
checked against, and whether it must sign (ADR 0027).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lianbo.adapters.db.tables import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("cap_signature", sa.JSON(), nullable=True))
    op.create_table(
        "cap_senders",
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("certificates", sa.JSON(), nullable=False),
        sa.Column("must_be_signed", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("sender", name=op.f("pk_cap_senders")),
    )


def downgrade() -> None:
    op.drop_table("cap_senders")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("cap_signature")
