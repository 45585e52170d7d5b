"""Two processes acting on one alert at once (issue 14): the domain decides the
next state, the store applies it only if nobody changed the row meanwhile.

Each test runs a rival's whole request in between this request's read and its
write (what another process can do on PostgreSQL), deterministically: the
rival is started from inside a repository read of the request under test.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from lianbo.domain.errors import Conflict
from lianbo.domain.events import AlertCancelled, Event
from lianbo.domain.roles import Role
from lianbo.domain.users import Actor
from lianbo.services import alert_terminal
from lianbo.services import alerts as alert_service
from lianbo.services.auth import actor_of
from tests.integration.alerts.support import at_sample_day, fetch, issue, screen
from tests.support.env import Env

pytestmark = pytest.mark.integration

Rival = Callable[[], Awaitable[object]]


def rival_first(monkeypatch: pytest.MonkeyPatch, repo: object, name: str, rival: Rival) -> None:
    """Make ``repo.name`` read, then let ``rival`` run and commit once, then
    answer what it read: this request decides on what the rival changes."""
    read = getattr(repo, name)
    ran: list[bool] = []

    async def stale(*args: Any, **kwargs: Any) -> Any:
        seen = await read(*args, **kwargs)
        if not ran:
            ran.append(True)
            await rival()
        return seen

    monkeypatch.setattr(repo, name, stale)


async def issuer_pair(env: Env) -> tuple[dict[str, str], Actor, Actor]:
    """Headers of the issuer who issues, and two other issuers as actors."""
    first = await env.user(Role.ISSUER)
    second, third = await env.user(Role.ISSUER), await env.user(Role.ISSUER)
    return await env.login(first), actor_of(second, None), actor_of(third, None)


async def test_a_confirm_that_loses_to_a_cancel_is_refused_and_nothing_goes_out(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_sample_day(env, confirm=["Severe"])
    admin = await env.as_role(Role.ADMIN)
    _, terminal = await screen(env, admin)
    headers, confirmer, canceller = await issuer_pair(env)
    pending = await issue(env, headers, severity="Severe", area={"regions": ["5101"]})

    async def cancel() -> None:
        async with env.container.uow() as rival:
            await alert_service.cancel(env.container, rival, canceller, pending["id"])

    async with env.container.uow() as uow:
        rival_first(monkeypatch, uow.alerts, "get", cancel)
        with pytest.raises(Conflict, match="is cancelled, not waiting for confirmation"):
            await alert_service.confirm(env.container, uow, confirmer, pending["id"])
    board = (await env.client.get(f"/api/v1/alerts/{pending['id']}", headers=admin)).json()
    assert board["state"] == "cancelled" and board["confirmed_by"] is None
    assert board["targeted"] == 0 and board["counts"]["sent"] == 0
    assert await fetch(env, terminal) == []


async def test_two_cancels_at_once_one_wins_the_other_is_a_conflict(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    await screen(env, admin)
    headers, one, other = await issuer_pair(env)
    alert = await issue(env, headers, area={"regions": ["5101"]})

    async def cancel() -> None:
        async with env.container.uow() as rival:
            await alert_service.cancel(env.container, rival, other, alert["id"])

    async with env.container.uow() as uow:
        rival_first(monkeypatch, uow.alerts, "get", cancel)
        with pytest.raises(Conflict, match="is cancelled; only an active alert"):
            await alert_service.cancel(env.container, uow, one, alert["id"])
    kept = await env.client.get("/api/v1/alerts", params={"state": "recorded"}, headers=admin)
    assert kept.json()["total"] == 1  # one CAP Cancel message, not two
    audit = await env.client.get("/api/v1/audit", params={"action": "alert.cancel"}, headers=admin)
    assert audit.json()["total"] == 1


async def test_a_cancel_of_an_alert_confirmed_meanwhile_takes_it_off_screens(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_sample_day(env, confirm=["Severe"])
    admin = await env.as_role(Role.ADMIN)
    _, terminal = await screen(env, admin)
    headers, confirmer, canceller = await issuer_pair(env)
    pending = await issue(env, headers, severity="Severe", area={"regions": ["5101"]})

    async def confirm() -> None:
        async with env.container.uow() as rival:
            await alert_service.confirm(env.container, rival, confirmer, pending["id"])

    recorded: list[Event] = []
    async with env.container.uow() as uow:
        rival_first(monkeypatch, uow.alerts, "get", confirm)
        record = uow.record

        def keep(event: Event) -> None:
            recorded.append(event)
            record(event)

        monkeypatch.setattr(uow, "record", keep)
        cancelled = await alert_service.cancel(env.container, uow, canceller, pending["id"])
    assert cancelled.state == "cancelled"
    assert AlertCancelled(pending["id"]) in recorded  # the push to its topics goes out
    [push] = await fetch(env, terminal)  # and a screen that fetches clears it
    assert push["type"] == "alert-cancel" and push["id"] == pending["id"]


async def test_two_fetches_of_a_screen_at_once_write_one_delivery_row(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    alert = await issue(env, admin, area={"regions": ["5101"]})
    terminal_id, headers = await screen(env, admin)  # enrolled after: no row yet
    async with env.container.uow() as uow:
        terminal = await uow.terminals.get(terminal_id)
    assert terminal is not None

    async def fetch_elsewhere() -> None:
        async with env.container.uow() as rival:
            await alert_terminal.for_terminal(env.container, rival, terminal)

    async with env.container.uow() as uow:
        rival_first(monkeypatch, uow.deliveries, "delivered_ids", fetch_elsewhere)
        [push] = await alert_terminal.for_terminal(env.container, uow, terminal)
    assert push["type"] == "alert" and push["id"] == alert["id"]
    board = (await env.client.get(f"/api/v1/alerts/{alert['id']}", headers=admin)).json()
    assert board["counts"]["sent"] == 1
    assert len(await fetch(env, headers)) == 1


async def test_an_ack_racing_a_fetch_for_a_late_screen_is_kept(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    alert = await issue(env, admin, area={"regions": ["5101"]})
    terminal_id, _ = await screen(env, admin)
    async with env.container.uow() as uow:
        terminal = await uow.terminals.get(terminal_id)
    assert terminal is not None

    async def fetch_elsewhere() -> None:
        async with env.container.uow() as rival:
            await alert_terminal.for_terminal(env.container, rival, terminal)

    async with env.container.uow() as uow:
        rival_first(monkeypatch, uow.deliveries, "states", fetch_elsewhere)
        acked = await alert_terminal.ack(
            env.container, uow, terminal, alert["id"], "displayed", None
        )
    assert acked == alert_terminal.Acked(alert["id"], "displayed", True)
    board = (await env.client.get(f"/api/v1/alerts/{alert['id']}", headers=admin)).json()
    assert board["counts"]["sent"] == 1 and board["counts"]["displayed"] == 1
