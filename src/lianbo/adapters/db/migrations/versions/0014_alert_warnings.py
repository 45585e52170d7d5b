"""alert warnings: what a CAP message got wrong without being refused

``alerts.warnings``: a JSON list of ``{path, code, detail}`` (an empty
``<restriction/>``, a geocode scheme we do not target by, a CAP 1.1 message
read as 1.2, an Update or Cancel of a message never received), shown on
the alert (docs/alerts.md, "Errors and warnings"). Null on alerts taken in
before this revision: they had none, or they were refused.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("warnings", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("warnings")
