"""``/healthz`` and the broker: a process that lost its broker (or, on NATS,
its auth callout) is not ready, and is ready again by itself once the broker
is back. Real brokers, stopped and started under a running channel."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from bench.harness import nats
from pydantic import SecretStr

from lianbo.adapters.fleet.mqtt import MqttFleet
from lianbo.adapters.fleet.nats_fleet import NatsFleet
from lianbo.api.app import create_app
from lianbo.bootstrap import Container, bootstrap
from tests.integration.fleet.conftest import Mosquitto, NatsBrokers, started_nats
from tests.support.env import Env
from tests.support.waiting import until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.mqtt,
    # The store is not what is tested here.
    pytest.mark.parametrize("env", ["sqlite"], indirect=True),
]


@asynccontextmanager
async def serving(env: Env, **fleet: object) -> AsyncIterator[Served]:
    """A process bootstrapped with the fleet settings ``fleet`` (on the env's
    store), its channel started; a client of its app."""
    container: Container = bootstrap(
        env.container.settings.model_copy(update=fleet), clock=env.clock
    )
    app = create_app(container=container)
    await container.fleet.start()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://lianbo.test") as client:
            yield Served(client, container)
    finally:
        await container.fleet.stop()
        await container.close()


@dataclass
class Served:
    client: httpx.AsyncClient
    container: Container


async def fleet_ready(served: Served, ready: bool) -> bool:
    """Whether ``/healthz`` says what ``ready`` expects of the broker."""
    answer = await served.client.get("/healthz")
    if ready:
        return answer.status_code == 200 and answer.json()["fleet"] == "ok"
    return answer.status_code == 503 and answer.json()["not_ready"] == ["fleet"]


async def test_a_lost_mosquitto_makes_the_process_not_ready_until_it_is_back(
    env: Env, broker: Mosquitto
) -> None:
    user, password = broker.SERVER
    settings = {"fleet": "mqtt", "mqtt_port": broker.port}
    async with serving(env, **settings, mqtt_username=user, mqtt_password=password) as served:
        assert isinstance(served.container.fleet, MqttFleet)
        await until(lambda: fleet_ready(served, True), "ready with the broker")
        broker.stop()
        await until(lambda: fleet_ready(served, False), "not ready without the broker")
        broker.start()
        await until(lambda: fleet_ready(served, True), "ready again with the broker back")


@pytest.fixture
def one_node() -> Iterator[NatsBrokers]:
    brokers = started_nats(1)
    yield brokers
    nats.stop_cluster(brokers.cluster)


def nats_settings(brokers: NatsBrokers) -> dict[str, object]:
    cluster = brokers.cluster
    return {
        "fleet": "nats",
        "nats_urls": cluster.urls,
        "nats_password": SecretStr(brokers.login("lianbo").password),
        "nats_callout_password": SecretStr(brokers.login("callout").password),
        "nats_system_password": SecretStr(brokers.login("system").password),
        "nats_issuer_seed": SecretStr(brokers.issuer.seed.decode()),
        "mqtt_port": cluster.nodes[0].mqtt_port,
    }


async def test_a_lost_nats_cluster_makes_the_process_not_ready_until_it_is_back(
    env: Env, one_node: NatsBrokers
) -> None:
    cluster = one_node.cluster
    (node,) = cluster.nodes
    async with serving(env, **nats_settings(one_node)) as served:
        await until(lambda: fleet_ready(served, True), "ready with the cluster")
        cluster.kill(node)
        await until(lambda: fleet_ready(served, False), "not ready without the cluster")
        cluster.start_node(node)
        cluster.wait_healthy([node])
        await until(lambda: fleet_ready(served, True), "ready again with the cluster back")


async def test_a_process_whose_auth_callout_is_not_answering_is_not_ready(
    env: Env, one_node: NatsBrokers
) -> None:
    """Connected, but not answering the callout: no screen could log in."""
    async with serving(env, **nats_settings(one_node)) as served:
        fleet = served.container.fleet
        assert isinstance(fleet, NatsFleet) and fleet.callout is not None
        await until(lambda: fleet_ready(served, True), "ready with the cluster")
        await fleet.callout.stop()
        await until(lambda: fleet_ready(served, False), "not ready without the callout")
        await fleet.callout.start()
        await until(lambda: fleet_ready(served, True), "ready when it answers again")
