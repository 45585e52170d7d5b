"""Two processes batching acks for the same screens at once, on one
PostgreSQL database (ADR 0017): rows are locked and written in one order, so
the two batches queue instead of deadlocking, and a row never moves
backwards. A "process" is a container of its own (its own engine and
connections); batches are applied with ``apply_acks`` directly, so a
deadlock would surface here instead of being retried ack by ack."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from lianbo.api.app import create_app
from lianbo.bootstrap import Container, bootstrap
from lianbo.domain.alerting.deliveries import DeliveryState as S
from lianbo.domain.roles import Role
from lianbo.domain.terminals import Terminal, TerminalStatus, Tier
from lianbo.services.alert_terminal import Ack, Acked, Outcome, apply_acks
from tests.conftest import _drop_database, _fresh_settings
from tests.integration.alerts.support import at_sample_day, issue
from tests.support.clock import FakeClock
from tests.support.env import Env

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

SCREENS = 400
ROUNDS = 3


@dataclass
class Two:
    env: Env  # process A, with its API client
    other: Container  # process B


@pytest.fixture
async def two(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[Two]:
    pg = request.getfixturevalue("postgres_template")
    settings = await _fresh_settings("postgres", tmp_path, sqlite_template, pg)
    clock = FakeClock()
    a, b = bootstrap(settings, clock=clock), bootstrap(settings.model_copy(), clock=clock)
    transport = httpx.ASGITransport(app=create_app(container=a))
    async with httpx.AsyncClient(transport=transport, base_url="http://lianbo.test") as client:
        yield Two(Env(a, client, clock, "postgres"), b)
    await b.close()
    await a.close()
    await _drop_database(settings)


async def add_screens(container: Container, clock: FakeClock, count: int) -> list[str]:
    now = clock.now()
    screens = [
        Terminal(
            id=uuid.uuid4().hex,
            name=f"race-{uuid.uuid4().hex[:8]}",
            tier=Tier.HOME,
            region="510104",
            latitude=30.6,
            longitude=104.05,
            status=TerminalStatus.OFFLINE,
            tags=(),
            groups=(),
            created_at=now,
            updated_at=now,
            enrolled_at=now,
        )
        for _ in range(count)
    ]
    async with container.uow() as uow:
        await uow.terminals.add_many(screens)
        await uow.commit()
    return [s.id for s in screens]


async def apply(container: Container, acks: list[Ack]) -> list[Outcome]:
    async with container.uow() as uow:
        return await apply_acks(uow, container.clock.now(), acks)


async def states(container: Container, alert_id: str, terminal_ids: list[str]) -> set[S]:
    async with container.uow() as uow:
        found = await uow.deliveries.states([(alert_id, t) for t in terminal_ids])
    assert len(found) == len(terminal_ids)
    return set(found.values())


def crossed(alert_id: str, one: list[str], two: list[str]) -> list[Ack]:
    """``one`` displayed, then ``two`` failed: two multi-row statements, in that order."""
    return [Ack(t, alert_id, S.DISPLAYED) for t in one] + [
        Ack(t, alert_id, S.FAILED, "bad signature") for t in two
    ]


async def test_two_processes_batching_the_same_screens_queue_and_never_go_back(two: Two) -> None:
    env, other = two.env, two.other
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    screens = sorted(await add_screens(env.container, env.clock, SCREENS))
    low, high = screens[: SCREENS // 2], screens[SCREENS // 2 :]
    for _ in range(ROUNDS):
        alert_id = (await issue(env, admin))["id"]
        # A writes the low half first and B the high half: unless both lock
        # every row up front, in one order, each waits for the other's rows.
        a, b = crossed(alert_id, low, high), crossed(alert_id, high, low)
        got_a, got_b = await asyncio.gather(apply(env.container, a), apply(other, b))
        assert await states(env.container, alert_id, screens) <= {S.DISPLAYED, S.FAILED}
        by_a = {(o.terminal_id, o.state): r for o, r in zip(a, got_a, strict=True)}
        by_b = {(o.terminal_id, o.state): r for o, r in zip(b, got_b, strict=True)}
        for terminal_id in screens:  # exactly one of the two took the row, and both say where
            first = by_a.get((terminal_id, S.DISPLAYED)) or by_a[(terminal_id, S.FAILED)]
            second = by_b.get((terminal_id, S.DISPLAYED)) or by_b[(terminal_id, S.FAILED)]
            assert isinstance(first, Acked) and isinstance(second, Acked)
            assert first.changed != second.changed and first.state == second.state


async def test_two_processes_batchers_answer_every_ack(two: Two) -> None:
    env, other = two.env, two.other
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    screens = await add_screens(env.container, env.clock, 60)
    alert = await issue(env, admin)
    late = await add_screens(env.container, env.clock, 60)
    everyone = screens + late
    calls = [env.container.acks.ack(t, alert["id"], "displayed") for t in everyone]
    calls += [other.acks.ack(t, alert["id"], "received") for t in reversed(everyone)]
    answers = await asyncio.gather(*calls)
    assert all(isinstance(a, Acked) for a in answers)
    assert sum(a.changed for a in answers[: len(everyone)]) == len(
        everyone
    )  # displayed always moves
    assert await states(env.container, alert["id"], everyone) == {S.DISPLAYED}
