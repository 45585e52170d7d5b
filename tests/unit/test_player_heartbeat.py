"""Which way each heartbeat goes (socket or HTTP) and what its reply means,
with fakes for the socket, the HTTP call and the clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from lianbo.player.api import Exchange, Unreachable
from lianbo.player.clock import OffsetEstimator
from lianbo.player.heartbeat import BeatConfig, Heartbeats
from lianbo.protocol.messages import Message

AUDIENCE = {"region": "510107", "tier": "home", "groups": [], "tags": []}
MOVED = {**AUDIENCE, "region": "510104"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


class FakeSocket:
    def __init__(self) -> None:
        self.connected = True
        self.sent: list[Message] = []

    async def send(self, message: Message) -> bool:
        if not self.connected:
            return False
        self.sent.append(message)
        return True


class FakeHttp:
    def __init__(self) -> None:
        self.audience: dict[str, Any] = AUDIENCE
        self.down = False
        self.bodies: list[dict[str, Any]] = []

    async def heartbeat(self, status: dict[str, Any]) -> Exchange:
        if self.down:
            raise Unreachable("ConnectError: refused")
        self.bodies.append(status)
        reply = {
            "server_time": datetime.now(UTC).isoformat(),
            "heartbeat_seconds": 30,
            "audience": self.audience,
        }
        return Exchange(reply, 1.0, 1.01)


class Rig:
    def __init__(self, **config: Any) -> None:
        self.clock, self.socket, self.http = Clock(), FakeSocket(), FakeHttp()
        self.audiences: list[dict[str, Any]] = []
        self.estimator = OffsetEstimator()
        self.beats = Heartbeats(
            BeatConfig(**config),
            lambda: {"backend": "headless"},
            self.estimator,
            self.clock.monotonic,
            self.audiences.append,
        )
        self.beats.attach(self.http, self.socket)

    async def beat_when_due(self) -> None:
        """Move the clock to the next due time and beat, as the sync loop does."""
        self.clock.now = max(self.clock.now, self.beats.due)
        await self.beats.beat()

    def reply(self, **body: Any) -> None:
        self.beats.answer({"server_time": self.clock.now, "heartbeat_seconds": 30, **body})


async def test_the_first_beat_asks_over_http_then_the_socket_carries_them() -> None:
    rig = Rig()
    await rig.beats.beat()
    assert len(rig.http.bodies) == 1 and rig.socket.sent == []
    assert rig.audiences == [AUDIENCE] and rig.estimator.samples == 1
    for n in range(1, 4):
        await rig.beat_when_due()
        assert [m.type for m in rig.socket.sent] == ["status"] * n
        assert rig.socket.sent[-1].body == {"backend": "headless"}  # the HTTP body's fields
        rig.clock.now += 0.05
        rig.reply()
    assert len(rig.http.bodies) == 1
    assert rig.beats.accepted == 4
    assert rig.beats.due == pytest.approx(rig.clock.now + 30)


async def test_a_reply_sets_the_interval_within_bounds() -> None:
    rig = Rig()
    await rig.beats.beat()
    await rig.beat_when_due()
    rig.reply(heartbeat_seconds=12)
    assert rig.beats.seconds == 12 and rig.beats.due == rig.clock.now + 12
    await rig.beat_when_due()
    rig.reply(heartbeat_seconds=0.01)  # nonsense: ignored
    await rig.beat_when_due()
    rig.reply(heartbeat_seconds=True)
    assert rig.beats.seconds == 12


async def test_with_the_socket_down_heartbeats_go_over_http() -> None:
    rig = Rig()
    rig.socket.connected = False
    for _ in range(3):
        await rig.beat_when_due()
    assert len(rig.http.bodies) == 3 and rig.socket.sent == []
    assert rig.beats.accepted == 3


async def test_no_reply_in_time_falls_back_to_http_and_leaves_the_socket_alone() -> None:
    rig = Rig(reply_seconds=5, quiet_seconds=300)
    await rig.beats.beat()
    await rig.beat_when_due()
    sent_at = rig.clock.now
    assert len(rig.socket.sent) == 1
    assert rig.beats.due == sent_at + 5  # the sync loop comes back at the reply's deadline
    await rig.beat_when_due()  # nothing came
    assert len(rig.http.bodies) == 2 and rig.beats.accepted == 2
    # A server that does not answer on the socket: HTTP only for a while ...
    quiet_until = rig.clock.now + 300
    while rig.beats.due < quiet_until:
        await rig.beat_when_due()
    assert len(rig.socket.sent) == 1 and len(rig.http.bodies) == 2 + 9
    # ... then the socket is tried again.
    await rig.beat_when_due()
    assert len(rig.socket.sent) == 2


async def test_a_reconnect_tries_the_socket_again_at_once() -> None:
    rig = Rig()
    await rig.beats.beat()
    await rig.beat_when_due()
    await rig.beat_when_due()  # no reply: quiet
    await rig.beats.connected()
    assert len(rig.socket.sent) == 2  # the connect report
    rig.reply()
    await rig.beat_when_due()
    assert len(rig.socket.sent) == 3 and len(rig.http.bodies) == 2


async def test_a_socket_that_drops_before_replying_is_not_blamed() -> None:
    rig = Rig()
    await rig.beats.beat()
    await rig.beat_when_due()
    rig.socket.connected = False
    await rig.beat_when_due()  # the deadline: over HTTP
    rig.socket.connected = True
    await rig.beat_when_due()
    assert len(rig.socket.sent) == 2 and len(rig.http.bodies) == 2


async def test_a_refused_heartbeat_backs_off_for_retry_after() -> None:
    rig = Rig()
    await rig.beats.beat()
    await rig.beat_when_due()
    rig.beats.answer({"refused": "too many heartbeats from this terminal", "retry_after": 7})
    assert rig.beats.accepted == 1 and rig.beats.refused == 1
    assert rig.beats.due == rig.clock.now + 7
    await rig.beat_when_due()
    assert len(rig.socket.sent) == 2 and len(rig.http.bodies) == 1  # no HTTP on a refusal


async def test_an_http_heartbeat_at_least_every_ten_minutes_for_the_audience() -> None:
    rig = Rig(audience_seconds=600)
    await rig.beats.beat()
    start = rig.clock.now
    rig.http.audience = MOVED
    while rig.beats.due < start + 600:
        await rig.beat_when_due()
        rig.reply()
    assert len(rig.http.bodies) == 1
    await rig.beat_when_due()
    rig.reply()
    assert len(rig.http.bodies) == 2 and rig.audiences == [AUDIENCE, MOVED]


async def test_refreshing_the_audience_asks_over_http_now() -> None:
    rig = Rig(refresh_after=10)
    await rig.beats.beat()
    rig.http.audience = MOVED
    assert await rig.beats.refresh_audience() is None  # asked a moment ago: not again
    assert len(rig.http.bodies) == 1
    rig.clock.now += 11
    assert await rig.beats.refresh_audience() == MOVED
    assert len(rig.http.bodies) == 2 and rig.audiences[-1] == MOVED
    # The server's cache may have lagged: the next HTTP heartbeat within a minute.
    rig.http.down = True
    assert await rig.beats.refresh_audience() is None  # unreachable: no answer, no error
    rig.http.down = False
    asked = rig.clock.now
    while rig.beats.due < asked + 60:
        await rig.beat_when_due()
        rig.reply()
    assert len(rig.http.bodies) == 2
    await rig.beat_when_due()
    assert len(rig.http.bodies) == 3


async def test_an_http_failure_is_the_callers_to_handle() -> None:
    rig = Rig()
    rig.http.down = True
    with pytest.raises(Unreachable):
        await rig.beats.beat()
    rig.beats.soon()
    assert rig.beats.due == 0.0
