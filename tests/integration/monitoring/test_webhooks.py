"""Alarm webhooks through the outbox (ADR 0016), to a real local HTTP
receiver: queued with the alarm's change, sent by ``send_due`` (what the
leader's duty runs), retried on the injected clock, given up once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
import structlog

from lianbo.adapters.notify.webhooks import backoff
from lianbo.services.webhook_outbox import WebhookOutbox
from tests.integration.monitoring.helpers import screen
from tests.integration.monitoring.receiver import Receiver
from tests.support.env import Env
from tests.support.metrics import value
from tests.support.waiting import HANG_GUARD_S, until

pytestmark = pytest.mark.integration

DEAD_URL = "http://127.0.0.1:9/nothing-listens"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def outbox(env: Env, *urls: str, attempts: int = 8) -> WebhookOutbox:
    """The env's alarm webhooks, to ``urls`` (a request timeout a loaded
    machine cannot reach: the attempts are what is counted)."""
    settings = env.container.settings.model_copy(
        update={
            "alarm_webhooks": list(urls),
            "webhook_attempts": attempts,
            "webhook_timeout_seconds": HANG_GUARD_S,
        }
    )
    found = WebhookOutbox(env.container.uow, env.clock, settings)
    env.container.monitor.webhooks = found
    env.container.monitor.desk.outbox = found
    return found


async def delivery(env: Env, delivery_id: str) -> tuple[str, int, str | None] | None:
    async with env.container.uow() as uow:
        return await uow.webhooks.get(delivery_id)


async def counts(env: Env) -> dict[str, int]:
    async with env.container.uow() as uow:
        return await uow.webhooks.counts()


async def opened_offline(env: Env, admin: dict[str, str]) -> str:
    """A screen that went silent: its offline alarm is opened; the terminal id."""
    terminal_id, headers = await screen(env, admin)
    await env.client.post("/terminal/v1/heartbeat", headers=headers)
    env.clock.advance(seconds=61)
    assert await env.container.monitor.sweep() == [terminal_id]
    return terminal_id


async def test_alarm_events_reach_the_receiver_after_failures(env: Env, receiver: Receiver) -> None:
    hooks = outbox(env, receiver.url)
    receiver.failures = 2
    admin = await env.as_role()
    terminal_id = await opened_offline(env, admin)
    assert (await counts(env))["pending"] == 1  # stored with the alarm, nothing sent yet
    metrics = (await env.client.get("/metrics")).text
    assert value(metrics, "lianbo_webhook_deliveries", state="pending") == 1

    assert await hooks.send_due() == 1  # 503
    assert await hooks.send_due() == 0  # not due before its backoff
    env.clock.advance(seconds=1.2)
    assert await hooks.send_due() == 1  # 503 again
    env.clock.advance(seconds=2.4)
    assert await hooks.send_due() == 1
    assert receiver.attempts == 3 and receiver.events() == ["opened"]
    alarm = receiver.received[0]["alarm"]
    assert alarm["type"] == "offline" and alarm["terminal_id"] == terminal_id
    assert await delivery(env, receiver.keys[0]) == ("sent", 3, "http_503")

    for act in ("ack", "resolve"):
        answer = await env.client.post(f"/api/v1/alarms/{alarm['id']}/{act}", headers=admin)
        assert answer.status_code == 200, answer.text
    assert await hooks.send_due() == 2
    assert receiver.events() == ["opened", "acknowledged", "resolved"]
    assert receiver.received[2]["alarm"]["state"] == "resolved"
    assert len(set(receiver.keys)) == 3  # a key per delivery: a receiver drops repeats
    assert (hooks.delivered, hooks.failed) == (3, 2)
    assert await counts(env) == {"pending": 0, "dead": 0, "sent": 3}


async def test_a_receiver_down_then_up_gets_everything_in_order(
    env: Env, receiver: Receiver
) -> None:
    hooks = outbox(env, receiver.url)
    receiver.down = True
    for n in range(3):
        async with env.container.uow() as uow:
            await hooks.queue(uow, "opened", {"id": f"a{n}"})
            await uow.commit()
    await hooks.send_due()
    assert receiver.attempts == 1  # one probe for the URL, not one per delivery
    for _ in range(4):  # down through four retries
        env.clock.advance(seconds=hooks.max_delay * 1.2)
        await hooks.send_due()
    assert receiver.attempts == 5 and receiver.received == []
    receiver.down = False
    env.clock.advance(seconds=hooks.max_delay * 1.2)
    assert await hooks.send_due() == 3
    assert [e["alarm"]["id"] for e in receiver.received] == ["a0", "a1", "a2"]


async def test_an_unreachable_receiver_is_given_up_once_without_stopping_the_rest(
    env: Env, receiver: Receiver
) -> None:
    hooks = outbox(env, DEAD_URL, receiver.url, attempts=3)
    async with env.container.uow() as uow:
        await hooks.queue(uow, "opened", {"id": "a1"})
        await hooks.queue(uow, "resolved", {"id": "a1"})
        await uow.commit()
    with structlog.testing.capture_logs() as logs:
        for _ in range(6):
            await hooks.send_due()
            env.clock.advance(seconds=hooks.max_delay * 1.2)
    assert receiver.events() == ["opened", "resolved"]
    given_up = [e for e in logs if e["event"] == "webhook given up"]
    assert len(given_up) == 2  # each dead delivery logged once
    assert {e["error"] for e in given_up} == {"connect"}  # a code, not an exception's text
    assert given_up[0]["host"] == "127.0.0.1:9"
    assert await counts(env) == {"pending": 0, "dead": 2, "sent": 2}
    assert hooks.failed == 6  # three attempts for each event to the dead URL
    metrics = (await env.client.get("/metrics")).text
    assert value(metrics, "lianbo_webhook_deliveries", state="dead") == 2


async def test_a_rolled_back_change_queues_no_webhook(env: Env) -> None:
    hooks = outbox(env, DEAD_URL)
    async with env.container.uow() as uow:
        await hooks.queue(uow, "opened", {"id": "a1"})  # and then the change fails
    assert await counts(env) == {"pending": 0, "dead": 0}


async def test_a_sender_stopped_mid_batch_leaves_its_rows_due_for_the_next(
    env: Env, receiver: Receiver
) -> None:
    hooks = outbox(env, receiver.url)
    async with env.container.uow() as uow:
        for n in range(3):
            await hooks.queue(uow, "opened", {"id": f"a{n}"})
        await uow.commit()
    receiver.gate = threading.Event()
    sending = asyncio.create_task(hooks.send_due())
    await until(lambda: receiver.attempts == 1, "the first POST in flight")
    sending.cancel()  # leadership lost
    await asyncio.gather(sending, return_exceptions=True)
    receiver.gate.set()
    successor = outbox(env, receiver.url)
    assert await successor.send_due() == 3  # not after the lease: now
    await until(lambda: len(set(receiver.keys)) == 3, "each delivery, the first maybe twice")
    assert await counts(env) == {"pending": 0, "dead": 0, "sent": 3}


async def test_sent_and_dead_deliveries_are_deleted_after_the_retention(
    env: Env, receiver: Receiver
) -> None:
    hooks = outbox(env, receiver.url)
    async with env.container.uow() as uow:
        await hooks.queue(uow, "opened", {"id": "a1"})
        await uow.commit()
    await hooks.send_due()
    async with env.container.uow() as uow:
        await hooks.queue(uow, "resolved", {"id": "a1"})  # still pending: kept
        await uow.commit()
    env.clock.advance(days=6)
    assert await hooks.forget_done() == 0
    env.clock.advance(days=2)
    assert await hooks.forget_done() == 1
    assert await counts(env) == {"pending": 1, "dead": 0}


async def test_no_url_queues_nothing(env: Env) -> None:
    outbox(env)
    await opened_offline(env, await env.as_role())
    assert await counts(env) == {"pending": 0, "dead": 0}


def test_backoff_doubles_up_to_the_cap() -> None:
    delays = [backoff(n, 1.0, 8.0) for n in range(1, 7)]
    assert 0.8 <= delays[0] <= 1.2 and 1.6 <= delays[1] <= 2.4
    assert all(6.4 <= d <= 9.6 for d in delays[3:])
