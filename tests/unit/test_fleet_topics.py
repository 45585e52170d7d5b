"""MQTT topic names and mosquitto password entries."""

from __future__ import annotations

import base64
import hashlib
import json

from lianbo.adapters.fleet import mosquitto, topics
from lianbo.adapters.fleet.topic_fleet import TopicFleet
from lianbo.domain.targeting import Audience
from lianbo.domain.terminals import Tier
from tests.support.clock import FakeClock
from tests.unit.test_fleet_hub import FakeDirectory, Seen


def test_a_terminal_listens_on_its_topic_and_its_region_chain() -> None:
    assert topics.subscriptions("t1", "510107") == [
        "lianbo/t/t1/push",
        "lianbo/r/51/push",
        "lianbo/r/5101/push",
        "lianbo/r/510107/push",
    ]
    assert topics.region("51") == "lianbo/r/51/push"


def test_audience_topics_use_the_servers_audience_key() -> None:
    audience = Audience("510107", Tier.OUTDOOR, (), ("landmark",))
    assert topics.audience_key(audience.as_json()) == audience.key()
    assert topics.audience(audience.key()) == f"lianbo/a/{audience.key()}/push"


def test_per_terminal_topics_parse_back() -> None:
    assert topics.parse(topics.terminal("abc", topics.UP)) == ("abc", "up")
    assert topics.parse("lianbo/r/51/push") is None
    assert topics.parse("lianbo/t//up") is None
    assert topics.parse("other/t/abc/up") is None


def test_password_lines_are_mosquitto_pbkdf2_sha512() -> None:
    line = mosquitto.password_line("t1", "secret", salt=b"0123456789ab")
    user, rest = line.split(":", 1)
    _, kind, iterations, salt, key = rest.split("$")
    assert user == "t1" and kind == "7" and iterations == "101"
    assert base64.b64decode(salt) == b"0123456789ab"
    expected = hashlib.pbkdf2_hmac("sha512", b"secret", b"0123456789ab", 101)
    assert base64.b64decode(key) == expected


def test_the_acl_confines_terminals_to_their_own_topics() -> None:
    acl = mosquitto.ACL.format(server="lianbo-server")
    assert "user lianbo-server\ntopic readwrite lianbo/#" in acl
    assert "pattern read lianbo/t/%u/push" in acl
    assert "pattern write lianbo/t/%u/up" in acl
    assert "pattern read lianbo/a/+/push" in acl


class Recorded(TopicFleet):
    """A broker fleet that keeps what it would publish."""

    def __init__(self) -> None:
        super().__init__(FakeDirectory(), Seen(), FakeClock())
        self.published: list[tuple[str, str]] = []

    async def _publish_many(self, items: list[tuple[str, str]]) -> int:
        self.published.extend(items)
        return len(items)


async def test_a_manifest_change_on_a_broker_names_the_versions_url() -> None:
    fleet = Recorded()  # MQTT and NATS alike
    assert await fleet.manifest_changed({"k1": "v1"}, "https://edge.example/") == 1
    assert await fleet.manifest_changed({"k2": "v2"}) == 1  # no base: no URL
    assert [(topic, json.loads(payload)) for topic, payload in fleet.published] == [
        (
            "lianbo/a/k1/push",
            {"type": "manifest", "version": "v1", "url": "https://edge.example/manifests/k1/v1"},
        ),
        ("lianbo/a/k2/push", {"type": "manifest", "version": "v2"}),
    ]
