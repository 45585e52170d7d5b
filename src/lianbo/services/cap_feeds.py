"""Messages from upstream CAP feeds: taken in one by one (pushed, or found
by a poll), each becoming an alert issued at once, one queued for an
issuer's confirmation, a duplicate, one kept but not sent, or a refusal —
and every outcome counted on the feed (docs/alerts.md, "Upstream feeds").

Polling is a singleton duty (the leader's, ADR 0011): every feed whose next
poll has come is fetched with its validators; a feed that fails backs off
and never holds up the others.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import httpx

from lianbo.adapters.cap import MAX_BYTES, read_cap, to_cap_xml
from lianbo.adapters.cap.feed_reader import FeedEntry, FeedError, fetch, read_feed
from lianbo.domain.alerting.errors import CapInvalid, XmlRefused
from lianbo.domain.alerting.feeds import (
    Feed,
    FeedFault,
    Outcome,
    fault_text,
    mapped,
    next_poll,
    remembered,
)
from lianbo.domain.alerting.lifecycle import AlertState
from lianbo.domain.alerting.model import MsgType
from lianbo.domain.alerting.records import StoredAlert
from lianbo.domain.errors import DomainError, Forbidden
from lianbo.domain.roles import Role
from lianbo.domain.users import Actor
from lianbo.services import cap_trust
from lianbo.services.alert_intake import kept_text
from lianbo.services.alerts import issue
from lianbo.services.context import Context
from lianbo.services.duties import every

log = logging.getLogger(__name__)
POLL_EVERY_S = 2.0  # how often the leader looks for feeds due
INBOX_DAYS = 30
_PARALLEL = 8  # feeds fetched at once
_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class Receipt:
    """What one message became; ``error`` is the refusal to answer a push with."""

    outcome: Outcome
    alert: StoredAlert | None = None
    error: DomainError | None = None


def feed_actor(feed: Feed) -> Actor:
    """Who a feed's alerts are issued by, in the audit log and on the alert:
    ``feed:<name>``, an issuer over the feed owner's jurisdiction."""
    return Actor(
        user_id=f"feed:{feed.id}"[:32],
        username=f"feed:{feed.name}"[:64],
        role=Role.ISSUER,
        jurisdiction=feed.region,
    )


async def receive(container: Context, feed: Feed, data: bytes) -> Receipt:
    """Take one CAP message from ``feed`` and note what it became."""
    receipt, sender, identifier, kept = await _take(container, feed, data)
    detail = receipt.error.message[:300] if receipt.error else None
    async with container.uow() as uow:
        await uow.cap_feeds.note(
            feed.id,
            container.clock.now(),
            receipt.outcome.value,
            sender=sender,
            identifier=identifier,
            alert_id=receipt.alert.id if receipt.alert else None,
            detail=detail,
            cap_xml=kept if receipt.outcome is Outcome.OUTSIDE else None,
        )
        await uow.commit()
    return receipt


async def _take(
    container: Context, feed: Feed, data: bytes
) -> tuple[Receipt, str | None, str | None, str | None]:
    try:
        reading = read_cap(data)
    except (XmlRefused, CapInvalid) as refused:
        return Receipt(Outcome.REFUSED, error=refused), None, None, None
    alert = mapped(reading.alert, feed.geocodes)
    who = (alert.sender, alert.identifier)
    # A table-mapped message is kept as our serialisation: confirming it
    # later reads the kept text, which must carry the mapped regions.
    text = kept_text(data, reading) if alert is reading.alert else to_cap_xml(alert).decode()
    # Cancels follow the chain at once: ending an alert is never held back.
    hold = alert.msg_type is not MsgType.CANCEL and not feed.rules.issues_at_once(alert)
    async with container.uow() as uow:
        if await uow.alerts.by_key(*alert.key) is not None:
            return Receipt(Outcome.DUPLICATE), *who, None
        try:
            signature = await cap_trust.checked(container, uow, data, reading)
            issued = await issue(
                container,
                uow,
                feed_actor(feed),
                alert,
                text,
                None,
                reading.warnings,
                signature,
                hold=hold,
            )
        except Forbidden as refused:
            if refused.field == "alert/Signature":
                return Receipt(Outcome.REFUSED, error=refused), *who, None
            return Receipt(Outcome.OUTSIDE, error=refused), *who, text
        except DomainError as refused:
            return Receipt(Outcome.REFUSED, error=refused), *who, None
    if not issued.created:
        return Receipt(Outcome.DUPLICATE, issued.alert), *who, None
    queued = issued.alert.state is AlertState.PENDING
    return Receipt(Outcome.QUEUED if queued else Outcome.ISSUED, issued.alert), *who, None


async def poll_due(container: Context, client: httpx.AsyncClient | None = None) -> int:
    """Poll every feed whose time has come; how many were polled."""
    async with container.uow() as uow:
        due = await uow.cap_feeds.due(container.clock.now())
    if not due:
        return 0
    limit = asyncio.Semaphore(_PARALLEL)

    async def one(feed: Feed, http: httpx.AsyncClient) -> None:
        async with limit:
            try:
                await poll(container, http, feed)
            except Exception:  # one feed's fault never stops the others
                log.exception("polling CAP feed %s failed", feed.name)
                await _failed(container, feed, FeedError(FeedFault.INTERNAL))

    if client is not None:
        await asyncio.gather(*(one(f, client) for f in due))
    else:
        async with httpx.AsyncClient(timeout=_TIMEOUT_S, follow_redirects=True) as http:
            await asyncio.gather(*(one(f, http) for f in due))
    return len(due)


async def poll(container: Context, client: httpx.AsyncClient, feed: Feed) -> None:
    """Fetch one feed and take in each entry it has not taken before,
    oldest first (an Update after its Alert)."""
    assert feed.url is not None
    try:
        found = await fetch(client, feed.url, etag=feed.etag, last_modified=feed.last_modified)
        entries = [] if found.status == 304 else read_feed(found.body)
    except FeedError as error:
        await _failed(container, feed, error)
        return
    fresh = [e for e in reversed(entries) if e.key not in feed.seen]
    taken = [e.key for e in fresh if await _entry(container, client, feed, e)]
    now = container.clock.now()
    async with container.uow() as uow:
        await uow.cap_feeds.change(
            feed.id,
            etag=found.etag,
            last_modified=found.last_modified,
            seen=list(remembered(feed.seen, taken)),
            last_poll_at=now,
            last_ok_at=now,
            last_error=None,
            failures=0,
            next_poll_at=next_poll(feed, now, ok=True),
        )
        await uow.commit()


async def _entry(
    container: Context, client: httpx.AsyncClient, feed: Feed, entry: FeedEntry
) -> bool:
    """Take one entry in; False when its document could not be fetched
    (it is tried again at the next poll)."""
    document = entry.document
    if document is None and entry.link is not None:
        try:
            found = await fetch(client, entry.link, max_bytes=MAX_BYTES)
        except FeedError as error:
            await _note_failed(container, feed, fault_text(error.fault, error.detail))
            return False
        document = found.body
    if document is not None:
        await receive(container, feed, document)
    return True


async def _failed(container: Context, feed: Feed, error: FeedError) -> None:
    """A poll that failed: counted, shown, and the next one backed off."""
    reason = fault_text(error.fault, error.detail)
    now = container.clock.now()
    failed = replace(feed, failures=feed.failures + 1)
    async with container.uow() as uow:
        await uow.cap_feeds.change(
            feed.id,
            last_poll_at=now,
            last_error=reason,
            failures=failed.failures,
            next_poll_at=next_poll(failed, now, ok=False),
        )
        await uow.cap_feeds.note(feed.id, now, Outcome.FAILED.value, detail=reason)
        await uow.commit()


async def _note_failed(container: Context, feed: Feed, reason: str) -> None:
    async with container.uow() as uow:
        await uow.cap_feeds.note(
            feed.id, container.clock.now(), Outcome.FAILED.value, detail=reason
        )
        await uow.commit()


async def run_polling(container: Context) -> None:
    """The leader's duty: poll due feeds, and keep the inbox to 30 days."""

    pruned: list[datetime] = []  # when this leader last pruned (idempotent anyway)

    async def round_() -> None:
        await poll_due(container)
        now = container.clock.now()
        if not pruned or now - pruned[-1] > timedelta(hours=1):
            async with container.uow() as uow:
                await uow.cap_feeds.prune(now - timedelta(days=INBOX_DAYS))
                await uow.commit()
            pruned[:] = [now]

    await every(POLL_EVERY_S, round_, "CAP feed polling")
