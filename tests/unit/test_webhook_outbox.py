"""The webhook sender's loop over a store that goes away and comes back:
logged once per transition, not once per poll (fake unit of work)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import structlog

from lianbo.config import Settings
from lianbo.services.webhook_outbox import WebhookOutbox
from tests.support.clock import FakeClock
from tests.support.waiting import until


class EmptyOutbox:
    async def claim(self, now: datetime, until: datetime, limit: int) -> list[Any]:
        return []

    async def forget(self, cutoff: datetime) -> int:
        return 0


class Store:
    """A unit of work factory whose store can be unreachable."""

    def __init__(self) -> None:
        self.up = False
        self.webhooks = EmptyOutbox()

    def __call__(self) -> Store:
        return self

    async def __aenter__(self) -> Store:
        if not self.up:
            raise ConnectionRefusedError("the store is down")
        return self

    async def __aexit__(self, *_: object) -> None:
        pass

    async def commit(self) -> None:
        pass


async def test_a_lost_store_is_logged_once_and_its_return_once() -> None:
    store = Store()
    hooks = WebhookOutbox(store, FakeClock(), Settings())  # type: ignore[arg-type]
    hooks.poll_s = 0.001  # many rounds while the store is down
    with structlog.testing.capture_logs() as logs:
        sender = asyncio.create_task(hooks.run())
        try:
            await until(lambda: hooks.rounds >= 5, "rounds without a store")
            store.up = True
            rounds = hooks.rounds
            await until(lambda: hooks.rounds >= rounds + 3, "rounds with the store back")
        finally:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
    said = [e["event"] for e in logs if e["event"].startswith("webhook delivery")]
    assert said == ["webhook delivery failing", "webhook delivery working again"]
