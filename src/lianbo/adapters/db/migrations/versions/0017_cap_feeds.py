"""upstream CAP feeds and their inbox

``cap_feeds``: each upstream CAP source (polled URL or pushing with its own
token), its rules (severities and event codes issued at once; the rest
queued for confirmation), its geocode mapping table, and where its polling
stands (validators, next poll, failures for backoff, last error).
``cap_feed_messages``: what each message (or failed poll) of a feed came
to, counted for the feed's page; messages kept but not sent keep their CAP
text (docs/alerts.md, "Upstream feeds").

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lianbo.adapters.db.tables import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cap_feeds",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=12), nullable=False),
        sa.Column("severities", sa.JSON(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("geocodes", sa.JSON(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("next_poll_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_poll_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_ok_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("seen", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cap_feeds")),
        sa.UniqueConstraint("name", name=op.f("uq_cap_feeds_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_cap_feeds_token_hash")),
    )
    op.create_index(op.f("ix_cap_feeds_next_poll_at"), "cap_feeds", ["next_poll_at"])
    op.create_table(
        "cap_feed_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("feed_id", sa.String(length=24), nullable=False),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("sender", sa.String(length=255), nullable=True),
        sa.Column("identifier", sa.String(length=255), nullable=True),
        sa.Column("alert_id", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.String(length=300), nullable=True),
        sa.Column("cap_xml", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["feed_id"],
            ["cap_feeds.id"],
            name=op.f("fk_cap_feed_messages_feed_id_cap_feeds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cap_feed_messages")),
    )
    op.create_index(
        "ix_cap_feed_messages_feed_received", "cap_feed_messages", ["feed_id", "received_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_cap_feed_messages_feed_received", table_name="cap_feed_messages")
    op.drop_table("cap_feed_messages")
    op.drop_index(op.f("ix_cap_feeds_next_poll_at"), table_name="cap_feeds")
    op.drop_table("cap_feeds")
