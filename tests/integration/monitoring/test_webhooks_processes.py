"""Alarm webhooks across processes (ADR 0016): the outbox row outlives the
process that queued it, whichever process leads sends it, two senders never
send one row twice, and a new alarm wakes the sender at once. A second
"process" is a second container (its own engine and connections)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from lianbo.bootstrap import Container, bootstrap
from lianbo.config import Settings
from lianbo.domain.monitoring.alarms import AlarmType
from lianbo.services import duties, monitoring_jobs
from lianbo.services.alarms import observation
from lianbo.services.webhook_outbox import WebhookOutbox
from tests.integration.monitoring.receiver import Receiver
from tests.support.env import Env
from tests.support.waiting import HANG_GUARD_S, until

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def with_webhooks(settings: Settings, url: str) -> Settings:
    """Webhooks to ``url``; the poll far off, so only a wake-up sends soon."""
    return settings.model_copy(
        update={
            "alarm_webhooks": [url],
            "webhook_timeout_seconds": HANG_GUARD_S,
            "webhook_poll_seconds": 3600.0,
        }
    )


def rewire(container: Container, url: str) -> WebhookOutbox:
    """The container's alarm webhooks, to ``url``."""
    settings = with_webhooks(container.settings, url)
    hooks = WebhookOutbox(container.uow, container.clock, settings)
    container.monitor.webhooks = hooks
    container.monitor.desk.outbox = hooks
    return hooks


@pytest.fixture
async def other(env: Env, receiver: Receiver) -> AsyncIterator[Container]:
    """A second process on the same store and clock, with webhooks to the receiver."""
    container = bootstrap(with_webhooks(env.container.settings, receiver.url), clock=env.clock)
    yield container
    await container.close()


async def open_alarm(container: Container, terminal_id: str) -> None:
    found = observation(terminal_id, AlarmType.OFFLINE, True, "outdoor")
    [opened] = await container.monitor.desk.observe([found], {terminal_id: "510107"})
    assert opened.state == "open"


async def pending(env: Env) -> int:
    async with env.container.uow() as uow:
        return (await uow.webhooks.counts())["pending"]


async def test_a_killed_process_leaves_its_webhook_to_the_leader(
    env: Env, receiver: Receiver
) -> None:
    doomed = bootstrap(with_webhooks(env.container.settings, receiver.url), clock=env.clock)
    await open_alarm(doomed, "t-doomed")
    await doomed.close()  # killed: it never sent anything, nothing was flushed
    assert receiver.attempts == 0 and await pending(env) == 1
    leader = rewire(env.container, receiver.url)
    assert await leader.send_due() == 1
    assert receiver.events() == ["opened"]
    assert receiver.received[0]["alarm"]["terminal_id"] == "t-doomed"


async def test_a_sender_that_died_holding_a_claim_leaves_it_to_the_next_after_the_lease(
    env: Env, other: Container, receiver: Receiver
) -> None:
    await open_alarm(other, "t-claimed")
    now = env.clock.now()
    async with other.uow() as uow:  # claimed, maybe POSTed, never marked: then killed
        [claimed] = await uow.webhooks.claim(now, now + other.monitor.webhooks.lease, 20)
        await uow.commit()
    await other.close()
    leader = rewire(env.container, receiver.url)
    assert await leader.send_due() == 0  # the claim holds while its sender might live
    env.clock.advance(seconds=leader.lease.total_seconds() + 1)
    assert await leader.send_due() == 1
    assert receiver.keys == [claimed.id]  # at least once: the receiver knows a repeat by it


async def test_a_new_alarm_wakes_the_sender_at_once(env: Env, receiver: Receiver) -> None:
    hooks = rewire(env.container, receiver.url)
    sender = asyncio.create_task(hooks.run())
    try:
        await until(lambda: hooks.rounds >= 1, "the sender idle, polling an hour from now")
        await open_alarm(env.container, "t-fresh")
        await until(lambda: receiver.events() == ["opened"], "the webhook, before the poll")
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)


# PostgreSQL's SKIP LOCKED and LISTEN/NOTIFY: SQLite has one process.
on_postgres = pytest.mark.parametrize(
    "env", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@on_postgres
async def test_two_senders_deliver_each_row_once(
    env: Env, other: Container, receiver: Receiver
) -> None:
    hooks = rewire(env.container, receiver.url)
    async with env.container.uow() as uow:
        for n in range(60):
            await hooks.queue(uow, "opened", {"id": f"a{n}"})
        await uow.commit()
    sent = await asyncio.gather(hooks.send_due(), other.monitor.webhooks.send_due())
    assert sum(sent) == 60
    assert len(receiver.keys) == len(set(receiver.keys)) == 60
    assert sorted(e["alarm"]["id"] for e in receiver.received) == sorted(f"a{n}" for n in range(60))


@on_postgres
async def test_a_claim_skips_the_rows_another_sender_is_claiming(
    env: Env, other: Container
) -> None:
    hooks = rewire(env.container, "http://127.0.0.1:9/unused")
    async with env.container.uow() as uow:
        for n in range(4):
            await hooks.queue(uow, "opened", {"id": f"a{n}"})
        await uow.commit()
    now = env.clock.now()
    lease = now + hooks.lease
    async with env.container.uow() as first, other.uow() as second:
        mine = await first.webhooks.claim(now, lease, 2)  # locked until it commits
        # Without SKIP LOCKED this would wait for (or take) the first's rows.
        theirs = await asyncio.wait_for(second.webhooks.claim(now, lease, 4), HANG_GUARD_S)
        assert len(mine) == len(theirs) == 2
        assert not {d.id for d in mine} & {d.id for d in theirs}


@on_postgres
async def test_an_alarm_on_one_process_wakes_the_leaders_sender_on_another(
    env: Env, other: Container, receiver: Receiver
) -> None:
    await other.bus.start()  # the leader hears events committed elsewhere
    lead = asyncio.create_task(
        duties.run(other.leader, {"monitoring": lambda: monitoring_jobs.lead(other)})
    )
    try:
        await until(lambda: other.bus.connected and other.monitor.webhooks.rounds >= 1, "leading")
        rewire(env.container, receiver.url)
        await open_alarm(env.container, "t-elsewhere")  # committed on the follower
        await until(lambda: receiver.events() == ["opened"], "the leader's webhook")
    finally:
        lead.cancel()
        await asyncio.gather(lead, return_exceptions=True)
        await other.bus.stop()
