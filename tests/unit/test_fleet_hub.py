"""The hub without sockets: fakes for the links and the directory."""

from __future__ import annotations

import json
import time
from collections.abc import Collection
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from lianbo.adapters.fleet import presence
from lianbo.adapters.fleet.hub import POLICY_VIOLATION, SUPERSEDED, WebSocketHub
from lianbo.adapters.fleet.presence import PresenceReporter
from lianbo.adapters.fleet.registry import Peer
from lianbo.domain.errors import InvalidInput
from lianbo.protocol.messages import Message
from tests.support.clock import FakeClock
from tests.unit.test_fleet_inbox import Acks


class FakeLink:
    def __init__(self, *, broken: bool = False) -> None:
        self.sent: list[dict[str, Any]] = []
        self.closed: int | None = None
        self.broken = broken

    async def send_text(self, text: str) -> None:
        if self.broken:
            raise OSError("gone")
        self.sent.append(json.loads(text))

    async def close(self, code: int, reason: str = "") -> None:
        self.closed = code


class FakeDirectory:
    def __init__(self, *peers: Peer) -> None:
        self.tokens = {f"token-{p.terminal_id}": p for p in peers}

    async def by_token(self, token: str) -> Peer | None:
        return self.tokens.get(token)

    async def by_ids(self, terminal_ids: Collection[str]) -> dict[str, Peer]:
        return {p.terminal_id: p for p in self.tokens.values() if p.terminal_id in terminal_ids}


class Seen:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    async def __call__(self, seen: list[tuple[str, datetime]]) -> None:
        self.batches.append(sorted(terminal_id for terminal_id, _ in seen))


PEERS = (
    Peer("wuhou-1", "aud-a", "510107"),
    Peer("wuhou-2", "aud-a", "510107"),
    Peer("jinjiang", "aud-b", "510104"),
    Peer("mianyang", "aud-c", "510703"),
)


def make_hub() -> tuple[WebSocketHub, dict[str, FakeLink], Seen, FakeClock]:
    clock = FakeClock()
    seen = Seen()
    hub = WebSocketHub(FakeDirectory(*PEERS), seen, clock, heartbeat_seconds=30)
    links = {}
    for p in PEERS:
        links[p.terminal_id] = FakeLink()
        hello = json.loads(hub.join(p, links[p.terminal_id]))
        assert hello == {
            "type": "hello",
            "terminal_id": p.terminal_id,
            "server_time": clock.now().timestamp(),
        }
    return hub, links, seen, clock


def received(links: dict[str, FakeLink]) -> dict[str, list[dict[str, Any]]]:
    return {t: link.sent for t, link in links.items() if link.sent}


async def test_authentication_goes_through_the_directory() -> None:
    hub, *_ = make_hub()
    assert await hub.authenticate("token-jinjiang") == PEERS[2]
    assert await hub.authenticate("token-nobody") is None
    assert await hub.authenticate(None) is None


async def test_a_manifest_change_reaches_only_its_audiences() -> None:
    hub, links, *_ = make_hub()
    told = await hub.manifest_changed({"aud-a": "v2", "aud-c": "v9", "aud-gone": "v1"})
    assert told == 3
    await hub.drain()
    assert received(links) == {
        "wuhou-1": [{"type": "manifest", "version": "v2"}],
        "wuhou-2": [{"type": "manifest", "version": "v2"}],
        "mianyang": [{"type": "manifest", "version": "v9"}],
    }


async def test_a_manifest_change_names_the_versions_url_under_the_base() -> None:
    hub, links, *_ = make_hub()
    await hub.manifest_changed({"aud-a": "v2"}, "http://edge:8080/")
    await hub.drain()
    assert links["wuhou-1"].sent == [
        {"type": "manifest", "version": "v2", "url": "http://edge:8080/manifests/aud-a/v2"}
    ]


async def test_a_region_publish_reaches_the_subtree() -> None:
    hub, links, *_ = make_hub()
    await hub.publish_region("510100", Message("alert", {"id": "x"}))  # full form of 5101
    await hub.drain()
    assert set(received(links)) == {"wuhou-1", "wuhou-2", "jinjiang"}
    await hub.publish_region("51", Message("alert", {"id": "y"}))
    await hub.drain()
    assert [len(link.sent) for link in links.values()] == [2, 2, 2, 1]
    with pytest.raises(InvalidInput):
        await hub.publish_region("not-a-code", Message("alert", {}))


async def test_send_reaches_named_terminals_and_survives_a_dead_socket() -> None:
    hub, links, *_ = make_hub()
    links["jinjiang"].broken = True
    told = await hub.send(["jinjiang", "mianyang", "offline"], Message("command", {"id": "1"}))
    assert told == 2  # started on two sockets; one of them fails, which is logged
    await hub.drain()
    assert received(links) == {"mianyang": [{"type": "command", "id": "1"}]}


async def test_time_is_answered_with_the_server_clock() -> None:
    hub, _, _, clock = make_hub()
    reply = hub.receive(PEERS[0], json.dumps({"type": "time", "t0": 17.25}))
    assert reply is not None
    assert json.loads(reply) == {
        "type": "time",
        "t0": 17.25,
        "server_time": clock.now().timestamp(),
    }


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "nonsense",
        "[]",
        '{"type": 3}',
        '{"type": "hello"}',
        '{"type": "time", "t0": "x"}',
        '{"type": "ack"}',
        b"\xff",
        "x" * 70_000,
    ],
)
async def test_a_malformed_message_is_dropped(raw: str | bytes) -> None:
    hub, *_ = make_hub()
    assert hub.receive(PEERS[0], raw) is None
    assert hub.online() == {p.terminal_id for p in PEERS}


async def test_status_and_ack_get_no_reply_and_the_ack_goes_to_the_store() -> None:
    clock = FakeClock()
    acks = Acks()
    hub = WebSocketHub(FakeDirectory(*PEERS), Seen(), clock, acks=acks)
    assert hub.receive(PEERS[1], '{"type": "status", "playing": "abc"}') is None
    assert hub.receive(PEERS[1], '{"type": "ack", "id": "c1"}') is None
    assert acks.taken == [("wuhou-2", "c1", clock.now())]  # the socket's own terminal


async def test_a_reconnect_closes_the_older_socket() -> None:
    hub, links, *_ = make_hub()
    newer = FakeLink()
    hub.join(PEERS[0], newer)
    await hub.drain()
    assert links["wuhou-1"].closed == SUPERSEDED
    hub.leave(PEERS[0], links["wuhou-1"])  # the old socket's handler ends
    assert "wuhou-1" in hub.online()
    await hub.manifest_changed({"aud-a": "v3"})
    await hub.drain()
    assert newer.sent == [{"type": "manifest", "version": "v3"}]
    hub.leave(PEERS[0], newer)
    assert "wuhou-1" not in hub.online()


async def test_presence_is_reported_in_batches() -> None:
    hub, _, seen, _ = make_hub()
    await hub._presence.flush()
    assert seen.batches == [sorted(p.terminal_id for p in PEERS)]
    hub.leave(PEERS[3], FakeLink())  # not its link: still connected
    await hub._presence.flush()
    assert len(seen.batches) == 1  # nobody new: no statement at all
    await hub._presence.flush(everyone=True)
    assert seen.batches[-1] == sorted(p.terminal_id for p in PEERS)


async def test_a_refresh_refiles_edited_screens_and_closes_retired_ones() -> None:
    hub, links, *_ = make_hub()
    directory: FakeDirectory = hub._directory  # type: ignore[assignment]
    moved = Peer("jinjiang", "aud-a", "510107")
    directory.tokens["token-jinjiang"] = moved
    del directory.tokens["token-mianyang"]
    assert await hub.refresh() == 1
    await hub.drain()
    assert links["mianyang"].closed == POLICY_VIOLATION
    assert hub.online() == {"wuhou-1", "wuhou-2", "jinjiang"}
    await hub.manifest_changed({"aud-a": "v5", "aud-b": "v6"})
    await hub.drain()
    assert {t for t, sent in received(links).items() if sent} == {"wuhou-1", "wuhou-2", "jinjiang"}
    assert links["jinjiang"].sent == [{"type": "manifest", "version": "v5"}]


async def test_start_and_stop_run_the_reporter() -> None:
    hub, *_ = make_hub()
    await hub.start()
    await hub.start()
    await hub.stop()
    await hub.stop()


async def test_presence_stamps_a_screen_when_it_was_last_heard(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mono = time.monotonic()  # the reporter's monotonic clock, held still
    monkeypatch.setattr(presence, "time", SimpleNamespace(monotonic=lambda: mono))
    clock = FakeClock()
    seen = Seen()
    stamped: list[tuple[str, datetime]] = []

    async def record(batch: list[tuple[str, datetime]]) -> None:
        stamped.extend(batch)
        await seen(batch)

    heard = {"quiet": mono - 25.0, "lively": mono}
    reporter = PresenceReporter(
        record, lambda: ["quiet", "lively", "asgi"], 30, clock, heard=heard.get
    )
    await reporter.flush(everyone=True)
    at = dict(stamped)
    now = clock.now()
    # a half-open socket is not "seen now": it is seen when it last spoke
    assert at["quiet"] == now - timedelta(seconds=25)
    assert at["lively"] == now
    assert at["asgi"] == now  # a link that keeps no time: now
    assert seen.batches == [["asgi", "lively", "quiet"]]
