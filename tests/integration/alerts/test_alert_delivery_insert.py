"""Delivery rows in bulk (``DeliveryRepository.add_deliveries``): on
PostgreSQL one ``INSERT … SELECT unnest(…)``, on SQLite chunked multi-row
inserts; on both every screen gets one ``sent`` row, a row already there is
kept, and the rows commit with their transaction or not at all."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lianbo.adapters.db.repos.alert_deliveries import CHUNK
from lianbo.adapters.db.repos.alerts import Screen
from lianbo.domain.alerting.deliveries import DeliveryState, advance
from lianbo.domain.roles import Role
from tests.integration.alerts.support import at_sample_day, issue
from tests.support.env import Env

pytestmark = pytest.mark.integration

MANY = CHUNK + 500  # more than one chunk of the SQLite path


def screens(count: int, first: int = 0) -> list[Screen]:
    return [Screen(f"bulk-{i:05d}", "home", "510104", 30.6, 104.05) for i in range(first, count)]


class Failed(Exception):
    pass


async def test_every_screen_gets_one_sent_row_and_an_existing_row_is_kept(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    alert_id = (await issue(env, admin))["id"]
    earlier = env.clock.now()
    async with env.container.uow() as uow:  # one screen's row written a moment ago
        await uow.deliveries.add_deliveries(alert_id, screens(1), earlier)
        step = advance(DeliveryState.SENT, DeliveryState.DISPLAYED)
        assert step is not None
        await uow.deliveries.advance_many(
            alert_id, ["bulk-00000"], step, earlier + timedelta(seconds=1)
        )
        await uow.commit()
    now = earlier + timedelta(seconds=5)
    async with env.container.uow() as uow:
        await uow.deliveries.add_deliveries(alert_id, list(reversed(screens(MANY))), now)
        await uow.commit()
    async with env.container.uow() as uow:
        counts = await uow.deliveries.counts(alert_id)
        kept = await uow.deliveries.delivery(alert_id, "bulk-00000")
        last = await uow.deliveries.delivery(alert_id, f"bulk-{MANY - 1:05d}")
    assert counts["sent"] == MANY  # the alert's own targets: none (no screen enrolled)
    assert counts["displayed"] == 1
    assert kept is not None and kept.state is DeliveryState.DISPLAYED and kept.sent_at == earlier
    assert last is not None and last.state is DeliveryState.SENT and last.sent_at == now
    assert (last.tier, last.region) == ("home", "510104")


async def test_rows_go_with_their_transaction_or_not_at_all(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    alert_id = (await issue(env, admin))["id"]
    with pytest.raises(Failed):
        async with env.container.uow() as uow:
            await uow.deliveries.add_deliveries(alert_id, screens(MANY), env.clock.now())
            raise Failed  # the request fails after the insert, before its commit
    async with env.container.uow() as uow:
        assert await uow.deliveries.delivery(alert_id, "bulk-00000") is None
        assert await uow.deliveries.delivery(alert_id, f"bulk-{MANY - 1:05d}") is None


async def test_no_screens_writes_nothing(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    alert_id = (await issue(env, admin))["id"]
    async with env.container.uow() as uow:
        before = await uow.deliveries.counts(alert_id)
        await uow.deliveries.add_deliveries(alert_id, [], env.clock.now())
        await uow.commit()
        assert await uow.deliveries.counts(alert_id) == before
