"""Alarm webhooks through a transactional outbox (ADR 0016).

``WebhookOutbox.queue`` writes one ``webhook_deliveries`` row per URL in the
transaction that opened, acknowledged or resolved the alarm, and records
``WebhooksQueued``: a webhook exists if and only if its change committed,
and survives the process that committed it.

``WebhookOutbox.run`` is the leader's sender (a singleton duty,
``monitoring_jobs.lead``). It claims due rows in batches (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, and a lease: a claimed row is not due again until
``lease`` has passed, so two senders never send one row twice), POSTs them
with the row id as ``Idempotency-Key``, and marks each sent, due again
after a backoff, or dead after the last attempt (logged once). It wakes
when ``WebhooksQueued`` reaches its process (``poke``; the bus carries it
from any process) and otherwise polls every ``webhook_poll_seconds``.

Delivery is at least once: a sender that dies between a receiver's answer
and marking the row sent leaves it to be sent again after the lease; the
receiver drops the repeat by its key. Deliveries to one URL go out in the
order they were queued; a URL that fails holds back its later deliveries
until its retry (one probe per backoff, not one per queued event), and
costs the other URLs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog

from lianbo.adapters.db.repos.webhook_deliveries import WebhookDelivery
from lianbo.adapters.db.uow import UnitOfWork
from lianbo.adapters.notify import webhooks
from lianbo.config import Settings
from lianbo.domain import events as ev
from lianbo.domain.ports import Clock

log = structlog.get_logger()

BATCH = 20  # deliveries claimed at once
RETENTION_EVERY_S = 3600.0


class WebhookOutbox:
    """The alarm webhooks of a deployment: queued in the store, sent by the leader."""

    def __init__(self, uows: Callable[[], UnitOfWork], clock: Clock, settings: Settings) -> None:
        self.uows = uows
        self.clock = clock
        self.urls = list(settings.alarm_webhooks)
        self.attempts = settings.webhook_attempts
        self.base_delay = settings.webhook_backoff_seconds
        self.max_delay = settings.webhook_backoff_max_seconds
        self.timeout = settings.webhook_timeout_seconds
        self.poll_s = settings.webhook_poll_seconds
        self.retention = timedelta(days=settings.webhook_retention_days)
        # A claim outlives the slowest batch: one URL's deliveries in a row,
        # each taking up to the timeout.
        self.lease = timedelta(seconds=self.timeout * (BATCH + 1))
        self.wake = asyncio.Event()
        self.delivered = 0  # by this process (Prometheus counters)
        self.failed = 0  # attempts that failed (each retry counts)
        self.rounds = 0  # rounds of ``run`` finished (a test waits for the first)

    # ------------------------------------------------------------ queueing

    async def queue(self, uow: UnitOfWork, event: str, alarm: dict[str, Any]) -> None:
        """Add ``{"event", "alarm"}`` for every URL to ``uow``'s transaction
        (the caller commits it)."""
        await self.queue_many(uow, [(event, alarm)])

    async def queue_many(
        self, uow: UnitOfWork, changes: Sequence[tuple[str, dict[str, Any]]]
    ) -> None:
        """``queue`` for each (event, alarm), with one wake-up for them all."""
        if not self.urls or not changes:
            return
        now = self.clock.now()
        for event, alarm in changes:
            payload = {"event": event, "alarm": alarm}
            for url in self.urls:
                await uow.webhooks.add(WebhookDelivery(uuid.uuid4().hex, url, payload, 0), now)
        uow.record(ev.WebhooksQueued())

    def poke(self) -> None:
        """Deliveries were queued: the sender (if it runs here) looks now."""
        self.wake.set()

    # ------------------------------------------------------------- sending

    async def run(self) -> None:
        """Send due deliveries until cancelled (the leader's duty)."""
        swept, failing = -RETENTION_EVERY_S, False
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            while True:
                self.wake.clear()  # a poke while sending means: look again
                try:
                    await self.send_due(client)
                    if time.monotonic() - swept >= RETENTION_EVERY_S:
                        await self.forget_done()
                        swept = time.monotonic()
                except Exception:  # the store may be gone; the next round tries again
                    if not failing:  # logged once per outage, not every poll
                        log.exception("webhook delivery failing")
                    failing = True
                else:
                    if failing:
                        log.info("webhook delivery working again")
                    failing = False
                self.rounds += 1
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_s):
                        await self.wake.wait()

    async def send_due(self, client: httpx.AsyncClient | None = None) -> int:
        """Send everything due now; how many deliveries were attempted."""
        if client is None:
            async with httpx.AsyncClient(timeout=self.timeout) as own:
                return await self.send_due(own)
        total = 0
        while True:
            now = self.clock.now()
            async with self.uows() as uow:
                batch = await uow.webhooks.claim(now, now + self.lease, BATCH)
                await uow.commit()
            if not batch:
                return total
            await self._send_batch(client, batch)
            total += len(batch)

    async def _send_batch(
        self, client: httpx.AsyncClient, batch: Sequence[WebhookDelivery]
    ) -> None:
        """Each URL's deliveries in order; the URLs side by side. Cancelled
        (leadership lost), the deliveries whose outcome is not stored (the
        one in flight too: the receiver may see it twice) are due again at
        once for the next leader, not after the lease."""
        left = {d.id for d in batch}
        by_url: dict[str, list[WebhookDelivery]] = {}
        for delivery in batch:
            by_url.setdefault(delivery.url, []).append(delivery)
        try:
            done = await asyncio.gather(
                *(self._send_to(client, rows, left) for rows in by_url.values()),
                return_exceptions=True,  # a URL whose outcome was not stored stops only itself
            )
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._release(sorted(left), self.clock.now()))
            raise
        for outcome in done:  # its rows stay claimed until the lease
            if isinstance(outcome, BaseException):
                raise outcome

    async def _send_to(
        self, client: httpx.AsyncClient, deliveries: Sequence[WebhookDelivery], left: set[str]
    ) -> None:
        for index, delivery in enumerate(deliveries):
            error = await webhooks.post(client, delivery.url, delivery.payload, delivery.id)
            retry_at = await self._record(delivery, error)
            left.discard(delivery.id)
            if error is not None:  # the rest wait for this URL's next try
                rest = [d.id for d in deliveries[index + 1 :]]
                await self._release(rest, retry_at or self.clock.now())
                left.difference_update(rest)
                return

    async def _record(self, delivery: WebhookDelivery, error: str | None) -> datetime | None:
        """Store the attempt's outcome; when the delivery is due again (None:
        sent, or given up)."""
        now = self.clock.now()
        if error is None:
            self.delivered += 1
            async with self.uows() as uow:
                await uow.webhooks.sent(delivery.id, now)
                await uow.commit()
            return None
        self.failed += 1
        attempt = delivery.attempts + 1
        retry_at = None
        if attempt < self.attempts:
            delay = webhooks.backoff(attempt, self.base_delay, self.max_delay)
            retry_at = now + timedelta(seconds=delay)
        async with self.uows() as uow:
            await uow.webhooks.failed(delivery.id, error, now, retry_at)
            await uow.commit()
        where = {"delivery_id": delivery.id, "host": urlsplit(delivery.url).netloc}
        if retry_at is None:
            log.warning("webhook given up", attempts=attempt, error=error, **where)
        else:
            log.info("webhook failed, will retry", attempt=attempt, error=error, **where)
        return retry_at

    async def _release(self, delivery_ids: Sequence[str], at: datetime) -> None:
        if delivery_ids:
            async with self.uows() as uow:
                await uow.webhooks.release(delivery_ids, at)
                await uow.commit()

    async def forget_done(self) -> int:
        """Delete sent and dead deliveries past ``webhook_retention_days``."""
        async with self.uows() as uow:
            gone = await uow.webhooks.forget(self.clock.now() - self.retention)
            await uow.commit()
        if gone:
            log.info("webhook deliveries past retention deleted", rows=gone)
        return gone
