"""Acks written in batches (ADR 0017, ``services/alert_acks.py``): each ack
gets its own answer, a bad one fails only itself, several acks of one
screen in one batch behave as if they came one after another, and a row
never moves backwards. ``apply_acks`` is called directly so that a batch
is exactly the acks a test names; the HTTP route's batching is shown
with requests sent at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from lianbo.domain.alerting.deliveries import DeliveryState as S
from lianbo.domain.errors import NotFound
from lianbo.domain.roles import Role
from lianbo.services.alert_terminal import Ack, Acked, Outcome, apply_acks
from tests.integration.alerts.support import at_sample_day, corner_screens, issue, screen
from tests.integration.alerts.test_alert_races import rival_first
from tests.support.env import Env

pytestmark = pytest.mark.integration

RING = [[30.55, 103.95], [30.55, 104.10], [30.70, 104.10], [30.70, 103.95], [30.55, 103.95]]


async def batch(env: Env, acks: list[Ack]) -> list[Outcome]:
    """One batch, one transaction."""
    async with env.container.uow() as uow:
        return await apply_acks(uow, env.clock.now(), acks)


async def row(env: Env, alert_id: str, terminal_id: str) -> Any:
    async with env.container.uow() as uow:
        return await uow.deliveries.delivery(alert_id, terminal_id)


async def counts(env: Env, admin: dict[str, str], alert_id: str) -> dict[str, int]:
    board = await env.client.get(f"/api/v1/alerts/{alert_id}", headers=admin)
    assert board.status_code == 200, board.text
    found: dict[str, int] = board.json()["counts"]
    return found


async def test_a_batch_answers_each_ack_and_a_bad_one_fails_only_itself(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    inside, _ = await screen(env, admin, region="510104", latitude=30.60, longitude=104.05)
    other, _ = await screen(env, admin, region="510104", latitude=30.61, longitude=104.04)
    elsewhere, _ = await screen(env, admin, region="510703", latitude=31.46, longitude=104.68)
    [(heard, _), *_] = await corner_screens(env, admin)  # in 510104, outside the ring
    alert = await issue(env, admin, area={"polygons": [RING]})
    env.clock.advance(seconds=2)
    outcomes = await batch(
        env,
        [
            Ack(inside, alert["id"], S.DISPLAYED),
            Ack(inside, "no-such-alert", S.RECEIVED),
            Ack(elsewhere, alert["id"], S.DISPLAYED),  # neither its area nor its topics
            Ack(heard, alert["id"], S.OUTSIDE_AREA),  # heard on its topic: nothing to track
            Ack(heard, alert["id"], S.DISPLAYED),  # but it cannot have shown it
            Ack(other, alert["id"], S.FAILED, "bad signature"),
        ],
    )
    assert outcomes[0] == Acked(alert["id"], "displayed", True)
    assert isinstance(outcomes[1], NotFound) and "no alert" in outcomes[1].message
    assert isinstance(outcomes[2], NotFound) and "not for this terminal" in outcomes[2].message
    assert outcomes[3] == Acked(alert["id"], "outside-area", False)
    assert isinstance(outcomes[4], NotFound)
    assert outcomes[5] == Acked(alert["id"], "failed", True)
    failed = await row(env, alert["id"], other)
    assert failed.reason == "bad signature" and failed.failed_at == env.clock.now()
    shown = await row(env, alert["id"], inside)
    assert shown.displayed_at == shown.verified_at == shown.received_at == env.clock.now()
    assert await row(env, alert["id"], heard) is None
    board = await counts(env, admin, alert["id"])
    assert board["sent"] == 2 and board["displayed"] == 1 and board["failed"] == 1


async def test_acks_of_one_screen_in_one_batch_go_one_after_another(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    one, _ = await screen(env, admin, region="510104")
    two, _ = await screen(env, admin, region="510104")
    alert = await issue(env, admin)
    env.clock.advance(seconds=1)
    outcomes = await batch(
        env,
        [
            Ack(one, alert["id"], S.RECEIVED),
            Ack(two, alert["id"], S.DISPLAYED),
            Ack(one, alert["id"], S.VERIFIED),
            Ack(two, alert["id"], S.RECEIVED),  # late: behind what this batch already did
            Ack(one, alert["id"], S.RECEIVED),
            Ack(two, alert["id"], S.FAILED, "too late"),  # another outcome: never replaces
        ],
    )
    assert outcomes == [
        Acked(alert["id"], "received", True),
        Acked(alert["id"], "displayed", True),
        Acked(alert["id"], "verified", True),
        Acked(alert["id"], "displayed", False),
        Acked(alert["id"], "verified", False),
        Acked(alert["id"], "displayed", False),
    ]
    first, second = await row(env, alert["id"], one), await row(env, alert["id"], two)
    assert first.state is S.VERIFIED and first.received_at and first.displayed_at is None
    assert second.state is S.DISPLAYED and second.reason is None and second.failed_at is None


async def test_a_batch_never_moves_a_row_backwards_and_keeps_the_first_moments(
    env: Env,
) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    terminal_id, _ = await screen(env, admin, region="510104")
    alert = await issue(env, admin)
    env.clock.advance(seconds=1)
    assert await batch(env, [Ack(terminal_id, alert["id"], S.RECEIVED)]) == [
        Acked(alert["id"], "received", True)
    ]
    received_at = env.clock.now()
    env.clock.advance(seconds=3)
    outcomes = await batch(
        env,
        [Ack(terminal_id, alert["id"], S.DISPLAYED), Ack(terminal_id, alert["id"], S.RECEIVED)],
    )
    assert [o.state for o in outcomes if isinstance(o, Acked)] == ["displayed", "displayed"]
    env.clock.advance(seconds=1)
    again = await batch(
        env, [Ack(terminal_id, alert["id"], S.VERIFIED), Ack(terminal_id, alert["id"], S.FAILED)]
    )
    assert again == [Acked(alert["id"], "displayed", False)] * 2
    shown = await row(env, alert["id"], terminal_id)
    assert shown.state is S.DISPLAYED and shown.received_at == received_at
    assert (shown.displayed_at - received_at).total_seconds() == 3


async def test_a_late_screen_gets_its_row_in_the_batch(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    alert = await issue(env, admin)
    late, _ = await screen(env, admin, region="510104")  # enrolled after: no row yet
    outcomes = await batch(
        env, [Ack(late, alert["id"], S.RECEIVED), Ack(late, alert["id"], S.DISPLAYED)]
    )
    assert outcomes == [Acked(alert["id"], "received", True), Acked(alert["id"], "displayed", True)]
    assert (await counts(env, admin, alert["id"]))["displayed"] == 1


async def test_acks_sent_at_once_over_http_are_each_answered(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    screens = [await screen(env, admin, region="510104") for _ in range(12)]
    alert = await issue(env, admin)

    async def post(headers: dict[str, str], alert_id: str, state: str) -> Any:
        path = f"/terminal/v1/alerts/{alert_id}/ack"
        return await env.client.post(path, json={"state": state}, headers=headers)

    calls = [post(h, alert["id"], "displayed") for _, h in screens]
    calls += [post(screens[0][1], "no-such-alert", "displayed")]
    calls += [post(screens[1][1], alert["id"], "launched")]
    answers = await asyncio.gather(*calls)
    assert [a.status_code for a in answers] == [200] * 12 + [404, 400]
    assert all(
        a.json() == {"alert_id": alert["id"], "state": "displayed", "changed": True}
        for a in answers[:12]
    )
    assert (await counts(env, admin, alert["id"]))["displayed"] == 12


# On PostgreSQL the read locks the row, so a rival waits instead
# (test_alert_ack_processes covers that).
@pytest.mark.parametrize("env", ["sqlite"], indirect=True)
async def test_a_row_moved_by_a_rival_between_read_and_write_is_answered_as_it_is(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    terminal_id, _ = await screen(env, admin, region="510104")
    alert = await issue(env, admin)

    async def rival() -> None:
        assert await batch(env, [Ack(terminal_id, alert["id"], S.DISPLAYED)]) == [
            Acked(alert["id"], "displayed", True)
        ]

    async with env.container.uow() as uow:
        rival_first(monkeypatch, uow.deliveries, "states", rival)
        outcomes = await apply_acks(
            uow, env.clock.now(), [Ack(terminal_id, alert["id"], S.FAILED, "no codec")]
        )
    assert outcomes == [Acked(alert["id"], "displayed", False)]
    kept = await row(env, alert["id"], terminal_id)
    assert kept.state is S.DISPLAYED and kept.reason is None and kept.failed_at is None


async def test_an_ack_after_shutdown_began_is_refused_to_be_sent_again(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    _, headers = await screen(env, admin, region="510104")
    alert = await issue(env, admin)
    await env.container.acks.close()  # what the server's shutdown does first
    path = f"/terminal/v1/alerts/{alert['id']}/ack"
    answer = await env.client.post(path, json={"state": "displayed"}, headers=headers)
    assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
    assert answer.json()["error"]["message"] == "shutting down: ack again"
    assert (await counts(env, admin, alert["id"]))["displayed"] == 0


async def test_a_retired_screens_ack_is_refused_though_its_token_was_cached(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    terminal_id, headers = await screen(env, admin, region="510104")
    alert = await issue(env, admin)
    path = f"/terminal/v1/alerts/{alert['id']}/ack"
    manifest = await env.client.get("/terminal/v1/manifest", headers=headers)
    assert manifest.status_code == 200  # its token is now in the cache
    assert (await env.client.post(path, json={"state": "received"}, headers=headers)).is_success
    retired = await env.client.post(f"/api/v1/terminals/{terminal_id}/retire", headers=admin)
    assert retired.status_code == 200
    refused = await env.client.post(path, json={"state": "displayed"}, headers=headers)
    assert refused.status_code == 401
