"""region outlines loaded by an admin; villages' urban-rural class

``region_outlines``: one GeoJSON geometry per short-form region code,
loaded with ``lianbo regions outlines load``; it overrides or adds to the
outlines that ship in the package (ADR 0026).

``regions.urban_rural``: the statistics bureau's 城乡分类代码 of a village
(``lianbo regions import``); null for every other region.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lianbo.adapters.db.tables import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("regions") as batch:
        batch.add_column(sa.Column("urban_rural", sa.String(length=3), nullable=True))
    op.create_table(
        "region_outlines",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("loaded_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_region_outlines")),
    )


def downgrade() -> None:
    op.drop_table("region_outlines")
    with op.batch_alter_table("regions") as batch:
        batch.drop_column("urban_rural")
