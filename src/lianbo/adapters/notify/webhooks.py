"""Webhooks: a JSON POST per event and URL, retried with backoff.

``post`` makes one attempt and names its failure with a short code; the
alarm webhooks' outbox (``services/webhook_outbox.py``, ADR 0016) keeps
their deliveries in the store and retries them with ``backoff``.

``WebhookNotifier`` is the best-effort kind, for copies that may be lost
with the process (audit anchors: the anchor log is the record, ADR 0005).
Deliveries go through an in-memory queue worked by one background task
(``run``), so the caller never waits on a receiver. A failed delivery (a
transport error or a non-2xx answer) is tried again after
``base_delay * 2**attempt`` seconds (capped at ``max_delay``, with jitter so
many queued events do not hit a recovering receiver at once), up to
``attempts`` times; then it is logged and dropped. A receiver that fails or
hangs costs only its own deliveries: every request has a timeout.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import httpx
import structlog

log = structlog.get_logger()

QUEUE_MAX = 10_000
IDEMPOTENCY_HEADER = "Idempotency-Key"  # the delivery's id: a receiver drops a repeat


def backoff(attempt: int, base: float, cap: float) -> float:
    """Seconds before retry number ``attempt`` (1-based): ``base * 2**(attempt-1)``
    capped at ``cap``, with ±20 % jitter so that deliveries failed together
    do not all hit a recovering receiver at once."""
    delay: float = min(cap, base * 2.0 ** max(0, attempt - 1))
    jitter: float = random.uniform(0.8, 1.2)
    return delay * jitter


async def post(
    client: httpx.AsyncClient, url: str, payload: dict[str, Any], key: str
) -> str | None:
    """One attempt: None when the receiver took it (2xx), else a short code
    (``http_503``, ``timeout``, ``connect``, ``transport``, ``bad_url``) that
    is stored and logged; an exception's text could carry anything."""
    try:
        response = await client.post(url, json=payload, headers={IDEMPOTENCY_HEADER: key})
    except httpx.TimeoutException:
        return "timeout"
    except httpx.ConnectError:
        return "connect"
    except httpx.HTTPError:
        return "transport"
    except httpx.InvalidURL:
        return "bad_url"
    return None if response.is_success else f"http_{response.status_code}"


@dataclass(frozen=True, slots=True)
class Delivery:
    url: str
    payload: dict[str, Any]
    attempt: int = 0


class WebhookNotifier:
    """Queue of webhook deliveries and the worker that sends them."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        attempts: int = 8,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        timeout: float = 5.0,
    ) -> None:
        self.urls = list(urls)
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.timeout = timeout
        self.queue: asyncio.Queue[Delivery] = asyncio.Queue(QUEUE_MAX)
        self.delivered = 0
        self.failed = 0  # attempts that failed (each retry counts)
        self.dropped = 0
        self._waiting: set[asyncio.Task[None]] = set()

    def notify(self, payload: dict[str, Any]) -> None:
        """Queue ``payload`` for every configured URL (never blocks)."""
        for url in self.urls:
            self._put(Delivery(url, payload))

    def _put(self, delivery: Delivery) -> None:
        try:
            self.queue.put_nowait(delivery)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("webhook queue full, event dropped", url=delivery.url)

    def delay(self, attempt: int) -> float:
        """Seconds before retry number ``attempt`` (1-based), with ±20 % jitter."""
        return backoff(attempt, self.base_delay, self.max_delay)

    @property
    def idle(self) -> bool:
        """Nothing queued and no retry waiting."""
        return self.queue.empty() and not self._waiting

    async def run(self) -> None:
        """Send deliveries forever (a background task of the server)."""
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            try:
                while True:
                    delivery = await self.queue.get()
                    try:
                        await self._send(client, delivery)
                    finally:
                        self.queue.task_done()
            finally:
                for task in self._waiting:
                    task.cancel()

    async def _send(self, client: httpx.AsyncClient, delivery: Delivery) -> None:
        try:
            response = await client.post(delivery.url, json=delivery.payload)
            ok = response.is_success
            reason = f"HTTP {response.status_code}"
        except httpx.HTTPError as error:  # down, refused, timed out: try again later
            ok, reason = False, f"{type(error).__name__}: {error}"
        if ok:
            self.delivered += 1
            return
        self.failed += 1
        attempt = delivery.attempt + 1
        if attempt >= self.attempts:
            self.dropped += 1
            log.warning("webhook given up", url=delivery.url, attempts=attempt, reason=reason)
            return
        log.info("webhook failed, will retry", url=delivery.url, attempt=attempt, reason=reason)
        task = asyncio.create_task(self._later(replace(delivery, attempt=attempt)))
        self._waiting.add(task)
        task.add_done_callback(self._waiting.discard)

    async def _later(self, delivery: Delivery) -> None:
        await asyncio.sleep(self.delay(delivery.attempt))
        self._put(delivery)
