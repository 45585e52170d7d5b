"""Two server processes on one broker: each ``up`` message is handled once.

Two real ``MqttFleet`` instances share the ``up`` topics in an MQTT shared
subscription (ADR 0014); presence reaches both, and only the one that
reports presence writes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import aiomqtt
import pytest

from lianbo.adapters.fleet import topics
from lianbo.adapters.fleet.directory import DbDirectory
from lianbo.adapters.fleet.mqtt import MqttFleet
from lianbo.domain.roles import Role
from lianbo.protocol.messages import Message
from lianbo.services import commands
from lianbo.services.commands import CommandAcks
from tests.integration.fleet.conftest import Mosquitto, enrolled
from tests.support.env import Env
from tests.support.waiting import HANG_GUARD_S, until

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]

STATUSES = 6


class Beats:
    """The monitor's side of one process: which heartbeats it was handed."""

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.seqs: list[int] = []

    def beat(self, terminal_id: str, status: dict[str, Any] | None) -> datetime:
        self.seqs.append(int((status or {})["seq"]))
        now: datetime = self.clock.now()
        return now


@asynccontextmanager
async def process(
    env: Env,
    broker: Mosquitto,
    share_group: str,
    *,
    leader: bool = True,
    acks: CommandAcks | None = None,
) -> AsyncIterator[tuple[MqttFleet, Beats, list[str]]]:
    """One server process's fleet channel (its own heartbeats, acks and presence)."""
    beats, seen = Beats(env.clock), []

    async def record(terminals: list[tuple[str, datetime]]) -> None:
        seen.extend(t for t, _ in terminals)

    channel = MqttFleet(
        broker.broker(),
        DbDirectory(env.container.uow),
        record,
        env.clock,
        heartbeats=beats,
        acks=acks,
        share_group=share_group,
        reports_presence=lambda: leader,
    )
    await channel.start()
    try:
        async with asyncio.timeout(HANG_GUARD_S):
            await channel.connected()
        yield channel, beats, seen
    finally:
        await channel.stop()


@asynccontextmanager
async def screen(env: Env, broker: Mosquitto) -> AsyncIterator[tuple[str, aiomqtt.Client]]:
    admin = await env.as_role(Role.ADMIN)
    terminal_id, token = await enrolled(env, admin, region="510107")
    broker.accounts([(terminal_id, token)])
    status = topics.terminal(terminal_id, topics.STATUS)
    async with aiomqtt.Client(
        "127.0.0.1",
        broker.port,
        username=terminal_id,
        password=token,
        will=aiomqtt.Will(status, topics.OFFLINE, retain=True),
    ) as client:
        await client.subscribe(topics.terminal(terminal_id))
        await client.publish(status, topics.ONLINE, retain=True)
        yield terminal_id, client


async def _up(client: aiomqtt.Client, terminal_id: str, seq: int) -> None:
    payload = Message("status", {"seq": seq}).encode()
    await client.publish(topics.terminal(terminal_id, topics.UP), payload)


async def _drain(a: Beats, b: Beats, client: aiomqtt.Client, terminal_id: str) -> None:
    """Send markers until both processes handled one: the broker delivers to
    each subscriber in publish order, so both have by then handled every copy
    of what was sent before (a duplicate could not still be on its way)."""
    marker = 1000
    while not (any(s >= 1000 for s in a.seqs) and any(s >= 1000 for s in b.seqs)):
        assert marker < 1050, "the broker never gave both processes a marker"
        await _up(client, terminal_id, marker)
        marker += 1
        await until(lambda sent=marker - 1000: sum(s >= 1000 for s in a.seqs + b.seqs) >= sent)


def _handled(a: Beats, b: Beats) -> list[int]:
    return sorted(s for s in a.seqs + b.seqs if s < 1000)


async def test_each_up_message_is_handled_by_one_process(env: Env, broker: Mosquitto) -> None:
    async with (
        process(env, broker, "lianbo") as (_, a, _seen_a),
        process(env, broker, "lianbo") as (_, b, _seen_b),
        screen(env, broker) as (terminal_id, client),
    ):
        for seq in range(STATUSES):
            await _up(client, terminal_id, seq)
        await until(lambda: set(_handled(a, b)) == set(range(STATUSES)))
        await _drain(a, b, client, terminal_id)
        assert _handled(a, b) == list(range(STATUSES))  # once each: one reply, one write
        assert a.seqs and b.seqs  # and the broker shares the load


async def test_without_a_share_group_every_process_handles_each_message(
    env: Env, broker: Mosquitto
) -> None:
    """The setting's other value (a broker without shared subscriptions):
    fine for one process, doubled work for two: what the group prevents."""
    async with (
        process(env, broker, "") as (_, a, _seen_a),
        process(env, broker, "") as (_, b, _seen_b),
        screen(env, broker) as (terminal_id, client),
    ):
        await _up(client, terminal_id, 0)
        await until(lambda: a.seqs == [0] and b.seqs == [0])


async def test_presence_reaches_every_process_and_one_writes_it(
    env: Env, broker: Mosquitto
) -> None:
    async with (
        process(env, broker, "lianbo", leader=True) as (fleet_a, _, seen_a),
        process(env, broker, "lianbo", leader=False) as (fleet_b, _, seen_b),
        screen(env, broker) as (terminal_id, _client),
    ):
        await until(lambda: terminal_id in fleet_a.online() and terminal_id in fleet_b.online())
        await until(lambda: terminal_id in seen_a)
        # B flushed its arrivals too (it runs the same reporter), and wrote nothing.
        await fleet_b._presence.flush(everyone=True)
        assert seen_b == []


class Heard(CommandAcks):
    """One process's ack writer, noting which acks it took."""

    def __init__(self, env: Env) -> None:
        super().__init__(env.container.uow)
        self.ids: list[str] = []

    def ack(self, terminal_id: str, command_id: str, at: datetime) -> None:
        self.ids.append(command_id)
        super().ack(terminal_id, command_id, at)


async def test_acks_taken_by_either_process_are_in_the_store(env: Env, broker: Mosquitto) -> None:
    heard_a, heard_b = Heard(env), Heard(env)
    admin = await env.as_role(Role.ADMIN)
    async with (
        process(env, broker, "lianbo", acks=heard_a) as (fleet_a, _, _seen_a),
        process(env, broker, "lianbo", acks=heard_b) as (fleet_b, _, _seen_b),
        screen(env, broker) as (terminal_id, client),
    ):
        env.container.fleet = fleet_a  # the process the console sends from
        await until(lambda: terminal_id in fleet_a.online() and terminal_id in fleet_b.online())
        sent = []
        for _ in range(STATUSES):
            answer = await env.client.post(
                f"/api/v1/terminals/{terminal_id}/commands",
                json={"command": "reload"},
                headers=admin,
            )
            assert answer.status_code == 202, answer.text
            sent.append(answer.json()["id"])
        for command_id in sent:
            ack = Message("ack", {"id": command_id}).encode()
            await client.publish(topics.terminal(terminal_id, topics.UP), ack)

        async def all_acked() -> bool:
            async with env.container.uow() as uow:
                found = await commands.recent_commands(uow, terminal_id, limit=STATUSES)
            return sorted(c.id for c in found if c.acked_at is not None) == sorted(sent)

        await until(all_acked)
        assert sorted(heard_a.ids + heard_b.ids) == sorted(sent)  # each by one of them
