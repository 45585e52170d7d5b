"""The screens' channel on a real three-node NATS cluster (ADR 0018).

Players (their real MQTT push channel) log in over MQTT on different nodes;
lianbo answers the cluster's auth callout, pushes through NATS and ends
sessions with ``$SYS`` kicks. Each test says what the cluster must do:
fan-out across nodes, the ACL, the callout refusing, failover, retirement.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiomqtt
import pytest
from aiomqtt.exceptions import MqttConnectError
from bench.harness import nats

from lianbo.adapters.fleet import topics
from lianbo.adapters.fleet.directory import DbDirectory
from lianbo.adapters.fleet.mqtt import Broker
from lianbo.adapters.fleet.nats_auth import AuthCallout
from lianbo.adapters.fleet.nats_fleet import NatsFleet
from lianbo.player import identity as store
from lianbo.player.backoff import Backoff
from lianbo.player.channels import push_channel
from lianbo.player.clock import OffsetEstimator, SystemClock
from lianbo.player.identity import Identity
from lianbo.player.push_mqtt import MqttPushChannel
from lianbo.protocol.messages import Message
from lianbo.services.commands import CommandAcks
from tests.integration.alerts.support import at_sample_day, issue
from tests.integration.fleet.conftest import NatsBrokers, started_nats
from tests.support.env import Env
from tests.support.waiting import HANG_GUARD_S, until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.mqtt,
    # The store is not what is tested here: one kind keeps the cluster runs few.
    pytest.mark.parametrize("env", ["sqlite"], indirect=True),
]

BASE = "http://lianbo.test"


@pytest.fixture
def own_cluster() -> Iterator[NatsBrokers]:
    """A cluster for a test that kills one of its nodes."""
    brokers = started_nats()
    yield brokers
    nats.stop_cluster(brokers.cluster)


async def serving(env: Env, brokers: NatsBrokers, *, callout: bool = True) -> NatsFleet:
    """The server on the cluster: its fleet, its callout, enrolment naming every node."""
    cluster = brokers.cluster
    env.container.settings = env.container.settings.model_copy(
        update={
            "fleet": "nats",
            "mqtt_public_brokers": [f"127.0.0.1:{n.mqtt_port}" for n in cluster.nodes],
        }
    )
    directory = DbDirectory(env.container.uow)

    async def seen(ids: list[Any]) -> None:
        del ids

    lianbo = brokers.login("lianbo")
    fleet = NatsFleet(
        cluster.urls,
        lianbo,
        brokers.login("system"),
        Broker(*brokers.mqtt(0), lianbo.user, lianbo.password),
        directory,
        seen,
        env.clock,
        callout=AuthCallout(cluster.urls, brokers.login("callout"), brokers.issuer, directory)
        if callout
        else None,
        heartbeats=env.container.monitor,
        acks=CommandAcks(env.container.uow),
        alert_acks=env.container.acks,
    )
    env.container.fleet = fleet
    await fleet.start()
    async with asyncio.timeout(HANG_GUARD_S):
        await fleet.connected()
    return fleet


@pytest.fixture
async def fleet(env: Env, nats_cluster: NatsBrokers) -> AsyncIterator[NatsFleet]:
    channel = await serving(env, nats_cluster)
    yield channel
    await channel.stop()


class Screen:
    """A player's MQTT push channel, started on node ``first`` of the cluster."""

    def __init__(self, identity: Identity, first: int, *, pinned: bool = False) -> None:
        push = dict(identity.push or {})
        brokers = sorted(push["brokers"], key=lambda b: b["port"])  # a fixed order
        # pinned: that node alone, so a login that fails (a busy cluster's
        # first logins may time out) is retried there, not on the next node
        push["brokers"] = [brokers[first]] if pinned else brokers[first:] + brokers[:first]
        self.identity = identity
        self.audience = identity.audience
        self.received: list[Message] = []
        self.connects = 0
        chosen = push_channel(
            dataclasses.replace(identity, push=push),
            self.handle,
            audience=lambda: self.audience,
            clock=SystemClock(),
            estimator=OffsetEstimator(),
            backoff=Backoff(0.05, 0.2),
            on_connect=self.connected,
        )
        assert isinstance(chosen, MqttPushChannel)
        self.channel = chosen
        self.channel.audience_check = 0.05
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.channel.run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    async def handle(self, message: Message) -> None:
        self.received.append(message)

    async def connected(self) -> None:
        self.connects += 1

    def got(self, kind: str, **body: Any) -> bool:
        return any(m.type == kind and body.items() <= m.body.items() for m in self.received)


async def enrolled(env: Env, region: str = "510107") -> Identity:
    created = await env.terminal(await env.as_role(), region=region)
    return await store.enrol(BASE, created["enrolment_code"], env.client)


async def screens_on_every_node(
    env: Env, fleet: NatsFleet, count: int = 3, *, pinned: bool = True
) -> list[Screen]:
    screens = [Screen(await enrolled(env), i % 3, pinned=pinned) for i in range(count)]
    for screen in screens:
        screen.start()
    await until(lambda: all(s.channel.connected for s in screens), "every screen connected")
    await until(lambda: {s.identity.terminal_id for s in screens} <= fleet.online())
    return screens


async def test_a_region_alert_issued_through_lianbo_reaches_screens_on_every_node(
    env: Env, fleet: NatsFleet, nats_cluster: NatsBrokers
) -> None:
    at_sample_day(env)
    screens = await screens_on_every_node(env, fleet)
    try:
        on = {s.channel.broker[1] for s in screens}
        assert on == {n.mqtt_port for n in nats_cluster.cluster.nodes}  # one per node
        alert = await issue(env, await env.as_role(), area={"regions": ["510107"]})
        for screen in screens:
            await until(lambda s=screen: s.got("alert", id=alert["id"]), "alert on every node")
        assert fleet.callout is not None and fleet.callout.counts["accepted"] >= 3
    finally:
        for screen in screens:
            await screen.stop()


async def test_up_messages_are_answered_through_the_queue_group(env: Env, fleet: NatsFleet) -> None:
    screens = await screens_on_every_node(env, fleet, 1)
    try:
        # the time burst on connect goes up; each request gets its answer
        await until(lambda: screens[0].channel.estimator.samples >= 2, "time answered")
    finally:
        await screens[0].stop()


async def test_a_wrong_token_is_refused_by_the_callout_and_counted(
    env: Env, fleet: NatsFleet, nats_cluster: NatsBrokers
) -> None:
    identity = await enrolled(env)
    callout = fleet.callout
    assert callout is not None
    before = callout.counts["refused"]
    with pytest.raises(MqttConnectError):
        async with aiomqtt.Client(
            *nats_cluster.mqtt(1),
            identifier=identity.terminal_id,
            username=identity.terminal_id,
            password="not-the-token",
            timeout=HANG_GUARD_S,
        ):
            pass
    assert callout.counts["refused"] == before + 1


async def test_a_screen_may_not_read_or_write_another_screens_topics(
    env: Env, fleet: NatsFleet, nats_cluster: NatsBrokers
) -> None:
    mine, theirs = await enrolled(env), await enrolled(env)
    async with aiomqtt.Client(
        *nats_cluster.mqtt(2),
        identifier=mine.terminal_id,
        username=mine.terminal_id,
        password=mine.token,
        timeout=HANG_GUARD_S,
    ) as client:
        granted = await client.subscribe(
            [(topics.terminal(theirs.terminal_id), 0), (topics.terminal(mine.terminal_id), 0)]
        )
        codes = [getattr(c, "value", c) for c in granted]
        assert codes[0] == 0x80 and codes[1] == 0  # refused / granted at QoS 0
        # Written on one connection in this order: when the permitted one is
        # handled, the forbidden one would have been too.
        forged = Message("status", {"from": "forged"}).encode().encode()
        await client.publish(topics.terminal(theirs.terminal_id, topics.UP), forged)
        await client.publish(topics.terminal(mine.terminal_id, topics.STATUS), topics.ONLINE)
        await until(lambda: mine.terminal_id in fleet.online(), "the permitted message")
        assert theirs.terminal_id not in fleet.online()  # its up would have filed it


async def test_a_retired_screen_is_disconnected_and_cannot_reconnect(
    env: Env, fleet: NatsFleet
) -> None:
    screen = (await screens_on_every_node(env, fleet, 2))[1]  # on node 2
    try:
        callout = fleet.callout
        assert callout is not None
        refused = callout.counts["refused"]
        # a busy cluster may have dropped and renewed the session before now
        connects = screen.connects
        response = await env.client.post(
            f"/api/v1/terminals/{screen.identity.terminal_id}/retire",
            headers=await env.as_role(),
        )
        assert response.status_code == 200, response.text
        await until(lambda: not screen.channel.connected, "the session ended")
        await until(lambda: fleet.kicked == 1, "kicked by lianbo on the node that held it")
        await until(lambda: callout.counts["refused"] >= refused + 2, "refused twice")
        assert not screen.channel.connected and screen.connects == connects  # never back
        assert "refused by the broker" in (screen.channel.link.error or "")
    finally:
        await screen.stop()


async def test_a_moved_screen_logs_in_again_with_its_new_regions_permissions(
    env: Env, fleet: NatsFleet
) -> None:
    screen = (await screens_on_every_node(env, fleet, 1))[0]
    try:
        response = await env.client.patch(
            f"/api/v1/terminals/{screen.identity.terminal_id}",
            json={"region": "510703"},
            headers=await env.as_role(),
        )
        assert response.status_code == 200, response.text
        await until(lambda: screen.connects >= 2, "logged in again")
        # its heartbeat reply would bring the new audience; here the test does
        screen.audience = {**(screen.audience or {}), "region": "510703"}
        await until(lambda: "lianbo/r/5107/push" in screen.channel.listening)
        await fleet.publish_region("5107", Message("alert", {"id": "new-city"}))
        await until(lambda: screen.got("alert", id="new-city"), "its new region's alert")
    finally:
        await screen.stop()


async def test_screens_online_before_lianbo_started_are_known_from_retained_presence(
    env: Env, nats_cluster: NatsBrokers
) -> None:
    """The callout of another process lets them in; this process starts
    later and learns of them from the retained ``online`` alone."""
    cluster = nats_cluster.cluster
    directory = DbDirectory(env.container.uow)
    other = AuthCallout(cluster.urls, nats_cluster.login("callout"), nats_cluster.issuer, directory)
    await other.start()
    env.container.settings = env.container.settings.model_copy(
        update={"mqtt_public_brokers": [f"127.0.0.1:{n.mqtt_port}" for n in cluster.nodes]}
    )
    env.container.settings = env.container.settings.model_copy(update={"fleet": "nats"})
    screens = [Screen(await enrolled(env), i, pinned=True) for i in range(3)]
    try:
        for screen in screens:
            screen.channel.time_burst = 1  # one ``up`` at connect, the next in 5 min
            screen.start()
        await until(lambda: all(s.connects == 1 for s in screens), "every screen connected")
        fleet = await serving(env, nats_cluster, callout=False)
        try:
            ids = {s.identity.terminal_id for s in screens}
            await until(lambda: ids <= fleet.online(), "known from their retained online")
        finally:
            await fleet.stop()
    finally:
        for screen in screens:
            await screen.stop()
        await other.stop()


async def test_a_killed_nodes_screens_reconnect_elsewhere_and_get_an_alert(
    env: Env, own_cluster: NatsBrokers
) -> None:
    at_sample_day(env)
    fleet = await serving(env, own_cluster)
    screens = await screens_on_every_node(env, fleet, pinned=False)
    try:
        doomed = own_cluster.cluster.nodes[1]
        moved = [s for s in screens if s.channel.broker[1] == doomed.mqtt_port]
        assert moved  # (one, unless a first login failed over to the next node)
        own_cluster.cluster.kill(doomed)
        await until(lambda: all(s.connects >= 2 for s in moved), "reconnected elsewhere")
        assert all(s.channel.broker[1] != doomed.mqtt_port for s in moved)
        alert = await issue(env, await env.as_role(), area={"regions": ["510107"]})
        for screen in screens:
            await until(lambda s=screen: s.got("alert", id=alert["id"]), "alert after the kill")
    finally:
        for screen in screens:
            await screen.stop()
        await fleet.stop()
