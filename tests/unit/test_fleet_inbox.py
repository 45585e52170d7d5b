"""What the fleet inbox does with what screens send up (no server needed):
acks go to the ``Acks`` port and status reports to the heartbeat path;
nothing is kept in the process."""

from __future__ import annotations

import json
from datetime import datetime

from lianbo.adapters.fleet.inbox import REFUSALS, Inbox
from lianbo.domain.errors import RateLimited
from lianbo.protocol.messages import MAX_MESSAGE_BYTES
from tests.support.clock import FakeClock


def ack(command_id: str) -> str:
    return json.dumps({"type": "ack", "id": command_id})


class Acks:
    """An ``Acks`` port that records what it was handed."""

    def __init__(self) -> None:
        self.taken: list[tuple[str, str, datetime]] = []

    def ack(self, terminal_id: str, command_id: str, at: datetime) -> None:
        self.taken.append((terminal_id, command_id, at))

    async def settle(self) -> None:
        return None


def test_an_ack_goes_to_the_port_with_the_senders_own_terminal_id() -> None:
    clock = FakeClock()
    acks = Acks()
    box = Inbox(clock, acks=acks)
    assert box.receive("t1", ack("c1")) is None  # an ack gets no reply
    box.receive("t1", '{"type": "ack"}')  # malformed: dropped, not handed over
    assert acks.taken == [("t1", "c1", clock.now())]


def test_without_a_port_an_ack_is_only_logged() -> None:
    assert Inbox(FakeClock()).receive("t1", ack("c1")) is None


class Beats:
    """A heartbeat sink that records what it admitted."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.admitted: list[str] = []

    def beat(self, terminal_id: str, status: dict[str, object] | None) -> datetime:
        self.admitted.append(terminal_id)
        return self.clock.now()


def test_a_status_over_16_kb_is_refused_and_not_admitted() -> None:
    clock = FakeClock()
    beats = Beats(clock)
    box = Inbox(clock, beats, heartbeat_seconds=30)
    small = box.receive("t1", json.dumps({"type": "status", "playing": "a"}))
    assert small is not None and small.body["heartbeat_seconds"] == 30
    big = box.receive("t1", json.dumps({"type": "status", "pad": "x" * (17 * 1024)}))
    assert big is not None and big.type == "heartbeat" and "refused" in big.body
    assert beats.admitted == ["t1"]  # only the small one


def test_a_status_with_a_control_character_is_dropped_and_not_admitted() -> None:
    clock = FakeClock()
    beats = Beats(clock)
    box = Inbox(clock, beats, heartbeat_seconds=30)
    assert box.receive("t1", json.dumps({"type": "status", "push": "a\u0000b"})) is None
    assert beats.admitted == []
    box.receive("t1", json.dumps({"type": "status", "push": "polling"}))
    assert beats.admitted == ["t1"]


class Flooded:
    """A heartbeat sink that refuses every beat (a screen beating too fast)."""

    def beat(self, terminal_id: str, status: dict[str, object] | None) -> datetime:
        raise RateLimited("too many heartbeats", retry_after=5)


def test_every_refusal_is_counted_by_its_reason_and_the_next_message_is_handled() -> None:
    box = Inbox(FakeClock(), Flooded(), heartbeat_seconds=30)
    refused = [
        "x" * (MAX_MESSAGE_BYTES + 1),  # oversized, before it is parsed
        "not json",  # malformed
        '{"type": "launch"}',  # malformed: no message of ours
        '{"type": "time"}',  # malformed: no t0
        json.dumps({"type": "status", "push": "a\u0000b"}),  # text
        # unwanted: this inbox takes no alert acks (the screen acks over HTTP)
        json.dumps({"type": "alert-ack", "ref": "r1", "alert_id": "a1", "state": "received"}),
        json.dumps({"type": "status", "pad": "x" * (17 * 1024)}),  # oversized status, answered
        json.dumps({"type": "status", "playing": "a"}),  # rate_limited, answered
    ]
    for raw in refused:
        box.receive("t1", raw)
    assert box.refused == {
        "oversized": 2,
        "malformed": 3,
        "text": 1,
        "unwanted": 1,
        "rate_limited": 1,
    }
    assert set(box.refused) <= set(REFUSALS)
    assert box.dropped == len(refused)
    reply = box.receive("t1", json.dumps({"type": "time", "t0": 1.0}))
    assert reply is not None and reply.type == "time"
    assert box.dropped == len(refused)
