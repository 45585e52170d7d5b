"""Which push channel a screen uses, and identity files from before the choice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from lianbo.adapters.fleet import topics
from lianbo.api.routes.terminal_v1 import push_route
from lianbo.config import Settings
from lianbo.player import identity as store
from lianbo.player.backoff import Backoff
from lianbo.player.channels import push_channel, with_broker
from lianbo.player.clock import OffsetEstimator, SystemClock
from lianbo.player.identity import EnrolmentFailed, Identity, NotEnrolled
from lianbo.player.push import PushChannel
from lianbo.player.push_mqtt import MqttPushChannel, MqttRoute, route_of
from lianbo.protocol.messages import Message
from tests.unit.test_player_cli import run

AUDIENCE = {"region": "510107", "tier": "home", "groups": ["g1"], "tags": ["a", "b"]}
MQTT = push_route(Settings(fleet="mqtt", mqtt_host="10.0.0.5", mqtt_port=1884), "t-1")


async def ignore(message: Message) -> None:
    del message


def channel(identity: Identity) -> PushChannel:
    return push_channel(
        identity,
        ignore,
        audience=lambda: identity.audience,
        clock=SystemClock(),
        estimator=OffsetEstimator(),
        backoff=Backoff(),
    )


def enrolling(push: Any) -> httpx.AsyncClient:
    def centre(request: httpx.Request) -> httpx.Response:
        body = {"terminal_id": "t-1", "token": "s3cret", "keys": [], "audience": AUDIENCE}
        return httpx.Response(200, json=body if push is None else {**body, "push": push})

    return httpx.AsyncClient(transport=httpx.MockTransport(centre))


def test_the_server_names_its_channel() -> None:
    assert push_route(Settings(), "t-1") == {"channel": "hub", "path": "/terminal/v1/ws"}
    assert MQTT["host"] == "10.0.0.5" and MQTT["port"] == 1884  # the server's own, by default
    public = Settings(fleet="mqtt", mqtt_public_host="mqtt.example.cn", mqtt_public_port=8883)
    assert push_route(public, "t-1") | {"topics": None} == {
        "channel": "mqtt",
        "host": "mqtt.example.cn",
        "port": 8883,
        "brokers": [{"host": "mqtt.example.cn", "port": 8883}],
        "topics": None,
        "online": "online",
        "offline": "offline",
    }


def test_a_broker_cluster_is_named_node_by_node_starting_somewhere_per_screen() -> None:
    nodes = ["n1:1883", "n2:1883", "n3:1884"]
    cluster = Settings(fleet="mqtt", mqtt_public_brokers=nodes)
    firsts = set()
    for terminal_id in (f"t-{i}" for i in range(30)):
        block = push_route(cluster, terminal_id)
        brokers = block["brokers"]
        assert isinstance(brokers, list) and len(brokers) == 3
        named = [f"{b['host']}:{b['port']}" for b in brokers]
        start = nodes.index(named[0])
        assert named == nodes[start:] + nodes[:start]  # the same ring
        assert (block["host"], block["port"]) == (brokers[0]["host"], brokers[0]["port"])
        route = route_of(block)
        assert route is not None and len(route.addresses) == 3
        firsts.add(named[0])
    assert len(firsts) == 3  # screens spread over the nodes


def test_one_broker_named_by_hand_replaces_the_clusters_list() -> None:
    block = push_route(Settings(fleet="mqtt", mqtt_public_brokers=["a:1", "b:2"]), "t-1")
    moved = route_of(with_broker(block, "c.example:1883"))
    assert moved is not None and moved.addresses == (("c.example", 1883),)


@pytest.mark.parametrize("brokers", ["n1", "n1:x", ":1883", "n1:70000"])
def test_a_broker_list_entry_must_be_host_and_port(brokers: str) -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        Settings(mqtt_public_brokers=[brokers])


def test_the_player_listens_where_the_server_publishes() -> None:
    route = route_of(MQTT)
    assert isinstance(route, MqttRoute)
    key = topics.audience_key(AUDIENCE)
    assert route.listen(AUDIENCE) == [*topics.subscriptions("t-1", "510107"), topics.audience(key)]
    assert (route.push, route.up, route.status) == tuple(
        topics.terminal("t-1", leaf) for leaf in (topics.PUSH, topics.UP, topics.STATUS)
    )
    assert (route.online, route.offline) == (topics.ONLINE, topics.OFFLINE)
    assert route.listen(None) == [topics.terminal("t-1")]  # nothing more known yet


def test_a_moved_screen_listens_on_its_new_region_and_audience() -> None:
    route = route_of(MQTT)
    assert route is not None
    moved = {**AUDIENCE, "region": "510703"}
    assert set(route.listen(moved)) - set(route.listen(AUDIENCE)) == {
        topics.region("5107"),
        topics.region("510703"),
        topics.audience(topics.audience_key(moved)),
    }


async def test_an_mqtt_enrolment_is_kept_and_chooses_the_broker(tmp_path: Path) -> None:
    async with enrolling(MQTT) as http:
        identity = await store.enrol("http://centre.example", "ABCD-EFGH", http)
    assert identity.push == MQTT
    store.save(identity, tmp_path)
    assert store.load(tmp_path) == identity
    chosen = channel(store.load(tmp_path))
    assert isinstance(chosen, MqttPushChannel)
    assert (chosen.route.host, chosen.route.port, chosen.terminal_id) == ("10.0.0.5", 1884, "t-1")
    assert chosen.token == "s3cret" and not chosen.connected


@pytest.mark.parametrize("push", [None, {"channel": "hub", "path": "/terminal/v1/ws"}])
async def test_a_hub_enrolment_chooses_the_websocket(tmp_path: Path, push: Any) -> None:
    async with enrolling(push) as http:
        identity = await store.enrol("https://centre.example", "ABCD-EFGH", http)
    chosen = channel(identity)
    assert type(chosen) is PushChannel
    assert chosen.url == "wss://centre.example/terminal/v1/ws?terminal=t-1"


def test_an_identity_file_from_before_the_choice_uses_the_hub(tmp_path: Path) -> None:
    old = {"server": "http://c.example", "terminal_id": "t-1", "keys": {}, "backend": "headless"}
    (tmp_path / store.IDENTITY_FILE).write_text(json.dumps(old))
    (tmp_path / store.TOKEN_FILE).write_text("tok")
    identity = store.load(tmp_path)
    assert identity.push is None
    assert type(channel(identity)) is PushChannel


def test_an_unknown_channel_falls_back_to_the_hub() -> None:
    assert route_of({"channel": "coap", "host": "x"}) is None


@pytest.mark.parametrize(
    "push",
    [
        "mqtt",
        {"channel": "mqtt", "port": 1883, "topics": MQTT["topics"]},
        {**MQTT, "port": 70000},
        {**MQTT, "port": "1883"},
        {**MQTT, "topics": {"push": "lianbo/t/t-1/push"}},
        {**MQTT, "offline": "online"},
    ],
)
async def test_a_malformed_channel_is_refused(tmp_path: Path, push: Any) -> None:
    async with enrolling(push) as http:
        with pytest.raises(EnrolmentFailed, match="unexpected enrolment reply"):
            await store.enrol("http://centre.example", "ABCD-EFGH", http)
    data = {"server": "http://c.example", "terminal_id": "t-1", "keys": {}, "push": push}
    (tmp_path / store.IDENTITY_FILE).write_text(json.dumps(data))
    (tmp_path / store.TOKEN_FILE).write_text("tok")
    with pytest.raises(NotEnrolled, match="unreadable identity"):
        store.load(tmp_path)


def test_the_broker_address_can_be_overridden() -> None:
    moved = with_broker(MQTT, "broker.lan:2883")
    assert (moved["host"], moved["port"], moved["topics"]) == ("broker.lan", 2883, MQTT["topics"])
    assert with_broker(MQTT, "[::1]:1883")["host"] == "::1"
    for bad in ("broker.lan", ":1883", "broker.lan:x", "broker.lan:0"):
        with pytest.raises(ValueError):
            with_broker(MQTT, bad)
    with pytest.raises(ValueError, match="enrolled for the hub"):
        with_broker(None, "broker.lan:1883")


def test_mqtt_option_is_stored_or_refused_plainly(tmp_path: Path) -> None:
    store.save(Identity("http://c.example", "t-1", "tok", {}), tmp_path / "hub")
    code, output = run("--state-dir", str(tmp_path / "hub"), "--mqtt", "b:1", "--enrol-only")
    assert code == 1 and "enrolled for the hub" in output
    assert len(output.strip().splitlines()) == 1
    store.save(Identity("http://c.example", "t-1", "tok", {}, push=MQTT), tmp_path / "mqtt")
    code, _ = run("--state-dir", str(tmp_path / "mqtt"), "--mqtt", "b.lan:2883", "--enrol-only")
    assert code == 0
    kept = store.load(tmp_path / "mqtt").push
    assert kept is not None and (kept["host"], kept["port"]) == ("b.lan", 2883)
