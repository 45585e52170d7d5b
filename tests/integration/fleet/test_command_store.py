"""Commands and their acknowledgements in the store (``terminal_commands``),
on both stores: what ``CommandAcks`` writes, what it ignores, how many
commands a terminal keeps, and acks waiting out a store that is away."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.audit import AuditQuery
from lianbo.domain.roles import Role
from lianbo.services import commands
from lianbo.services.commands import CommandAcks, SentCommand
from tests.support.env import Env
from tests.support.waiting import until

pytestmark = pytest.mark.integration


async def send(env: Env, terminal_id: str, name: str = "reload") -> str:
    admin = await env.as_role(Role.ADMIN)
    response = await env.client.post(
        f"/api/v1/terminals/{terminal_id}/commands", json={"command": name}, headers=admin
    )
    assert response.status_code == 202, response.text
    command_id: str = response.json()["id"]
    return command_id


async def history(env: Env, terminal_id: str, limit: int = commands.RECENT) -> list[SentCommand]:
    async with env.container.uow() as uow:
        return await commands.recent_commands(uow, terminal_id, limit)


async def terminal(env: Env) -> str:
    created = await env.terminal(await env.as_role(Role.ADMIN))
    terminal_id: str = created["id"]
    return terminal_id


async def test_an_ack_is_stored_once_and_only_for_the_senders_own_command(env: Env) -> None:
    a, b = await terminal(env), await terminal(env)
    for_a = await send(env, a, "screenshot")
    await send(env, b)  # its own, never acknowledged below
    [stored] = await history(env, a)
    assert (stored.id, stored.command, stored.acked_at) == (for_a, "screenshot", None)
    assert not stored.delivered  # nobody holds the screen

    acks = CommandAcks(env.container.uow)
    first = env.clock.now()
    acks.ack(b, for_a, first)  # another screen's command: ignored
    acks.ack(a, "0" * 32, first)  # no such command
    acks.ack(a, "not-a-command-id\u0000", first)  # not an id at all (never reaches the store)
    await acks.settle()
    assert (await history(env, a))[0].acked_at is None

    acks.ack(a, for_a, first)
    await acks.settle()
    env.clock.advance(seconds=30)
    acks.ack(a, for_a, env.clock.now())  # sent again: the first stands
    await acks.settle()
    assert (await history(env, a))[0].acked_at == first
    assert (await history(env, b))[0].acked_at is None


async def test_a_terminal_keeps_its_newest_commands_and_the_audit_log_all(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commands, "KEPT", 3)
    busy, quiet = await terminal(env), await terminal(env)
    quiet_id = await send(env, quiet)
    sent = []
    for _ in range(5):
        env.clock.advance(seconds=1)
        sent.append(await send(env, busy))
    kept = await history(env, busy, limit=10)
    assert [c.id for c in kept] == sent[::-1][:3]  # newest first
    assert [c.id for c in await history(env, quiet)] == [quiet_id]
    async with env.container.uow() as uow:
        audited, _ = await uow.audit.search(
            AuditQuery(action=commands.ACTION, target_id=busy), limit=10, offset=0
        )
    assert len(audited) == 5


class Flaky:
    """A unit-of-work factory whose first ``failures`` transactions fail, as
    when the store is away."""

    def __init__(self, uows: Callable[[], UnitOfWork], failures: int) -> None:
        self.uows = uows
        self.failures = failures
        self.tries = 0

    def __call__(self) -> UnitOfWork:
        self.tries += 1
        if self.tries <= self.failures:
            raise ConnectionRefusedError("the store is away")
        return self.uows()


async def test_acks_wait_for_a_store_that_is_away(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commands, "RETRY_S", 0.01)
    screen = await terminal(env)
    command_id = await send(env, screen)
    flaky = Flaky(env.container.uow, failures=2)
    acks = CommandAcks(flaky)
    acks.ack(screen, command_id, env.clock.now())

    async def stored() -> bool:
        return (await history(env, screen))[0].acked_at is not None

    await until(stored)
    assert flaky.tries == 3


async def test_a_stop_while_the_store_stays_away_drops_the_acks_and_returns(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commands, "RETRY_S", 0.01)
    monkeypatch.setattr(commands, "SETTLE_S", 0.1)
    screen = await terminal(env)
    command_id = await send(env, screen)
    flaky = Flaky(env.container.uow, failures=10**9)
    acks = CommandAcks(flaky)
    acks.ack(screen, command_id, env.clock.now())
    await until(lambda: flaky.tries >= 2)  # tried, and tried again
    await acks.settle()  # returns: the channel's stop is not held up for ever
    assert (await history(env, screen))[0].acked_at is None
