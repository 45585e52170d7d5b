"""Upstream CAP feeds and their inbox (``domain.alerting.feeds``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.alert_tables import CapFeedMessageRow, CapFeedRow
from lianbo.domain.alerting.feeds import Feed, FeedKind, FeedRules
from lianbo.domain.regions import subtree_range


def _feed(row: CapFeedRow) -> Feed:
    return Feed(
        id=row.id,
        name=row.name,
        kind=FeedKind(row.kind),
        url=row.url,
        interval_s=row.interval_s,
        region=row.region,
        rules=FeedRules(tuple(row.severities), tuple(row.events)),
        geocodes=dict(row.geocodes or {}),
        enabled=row.enabled,
        etag=row.etag,
        last_modified=row.last_modified,
        next_poll_at=row.next_poll_at,
        last_poll_at=row.last_poll_at,
        last_ok_at=row.last_ok_at,
        last_error=row.last_error,
        failures=row.failures,
        seen=tuple(row.seen or ()),
    )


class CapFeedRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, feed: Feed, token_hash: str | None, at: datetime, by: str) -> None:
        self.session.add(
            CapFeedRow(
                id=feed.id,
                name=feed.name,
                kind=feed.kind.value,
                url=feed.url,
                interval_s=feed.interval_s,
                region=feed.region,
                severities=list(feed.rules.severities),
                events=list(feed.rules.events),
                geocodes=feed.geocodes,
                token_hash=token_hash,
                enabled=feed.enabled,
                next_poll_at=feed.next_poll_at,
                failures=0,
                seen=[],
                created_at=at,
                created_by=by,
            )
        )
        await self.session.flush()

    async def get(self, feed_id: str) -> Feed | None:
        row = await self.session.get(CapFeedRow, feed_id, populate_existing=True)
        return _feed(row) if row else None

    async def by_name(self, name: str) -> Feed | None:
        row = await self.session.scalar(select(CapFeedRow).where(CapFeedRow.name == name))
        return _feed(row) if row else None

    async def by_token_hash(self, token_hash: str) -> Feed | None:
        row = await self.session.scalar(
            select(CapFeedRow).where(CapFeedRow.token_hash == token_hash)
        )
        return _feed(row) if row else None

    async def within(self, region: str) -> list[Feed]:
        """Feeds whose owner's jurisdiction lies in ``region``, by name."""
        low, high = subtree_range(region)
        rows = await self.session.scalars(
            select(CapFeedRow)
            .where(CapFeedRow.region >= low, CapFeedRow.region < high)
            .order_by(CapFeedRow.name)
        )
        return [_feed(r) for r in rows]

    async def due(self, now: datetime) -> list[Feed]:
        """Enabled polled feeds whose next poll has come."""
        rows = await self.session.scalars(
            select(CapFeedRow).where(
                CapFeedRow.kind == FeedKind.POLL.value,
                CapFeedRow.enabled.is_(True),
                or_(CapFeedRow.next_poll_at.is_(None), CapFeedRow.next_poll_at <= now),
            )
        )
        return [_feed(r) for r in rows]

    async def change(self, feed_id: str, **values: Any) -> None:
        await self.session.execute(
            update(CapFeedRow).where(CapFeedRow.id == feed_id).values(**values)
        )

    async def remove(self, feed_id: str) -> None:
        await self.session.execute(delete(CapFeedRow).where(CapFeedRow.id == feed_id))

    async def note(self, feed_id: str, at: datetime, outcome: str, **values: Any) -> None:
        """One message's outcome in the feed's inbox."""
        self.session.add(
            CapFeedMessageRow(feed_id=feed_id, received_at=at, outcome=outcome, **values)
        )
        await self.session.flush()

    async def counts(self, feed_id: str) -> dict[str, int]:
        """How many messages (and failed polls) came to each outcome."""
        rows = await self.session.execute(
            select(CapFeedMessageRow.outcome, func.count())
            .where(CapFeedMessageRow.feed_id == feed_id)
            .group_by(CapFeedMessageRow.outcome)
        )
        return {outcome: int(n) for outcome, n in rows}

    async def prune(self, before: datetime) -> None:
        """Forget inbox rows older than ``before``."""
        await self.session.execute(
            delete(CapFeedMessageRow).where(CapFeedMessageRow.received_at < before)
        )

    async def inbox(self, feed_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """The feed's latest messages, newest first (without their CAP text)."""
        rows = await self.session.scalars(
            select(CapFeedMessageRow)
            .where(CapFeedMessageRow.feed_id == feed_id)
            .order_by(CapFeedMessageRow.received_at.desc(), CapFeedMessageRow.id.desc())
            .limit(limit)
        )
        return [
            {
                "received_at": r.received_at,
                "outcome": r.outcome,
                "sender": r.sender,
                "identifier": r.identifier,
                "alert_id": r.alert_id,
                "detail": r.detail,
            }
            for r in rows
        ]
