"""Command acknowledgements kept by the fleet inbox (no server needed)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from lianbo.adapters.fleet import inbox
from lianbo.adapters.fleet.inbox import Inbox
from tests.support.clock import FakeClock


def ack(command_id: str) -> str:
    return json.dumps({"type": "ack", "id": command_id})


def test_an_ack_is_kept_for_its_own_terminal_only() -> None:
    clock = FakeClock()
    box = Inbox(clock)
    assert box.receive("t1", ack("c1")) is None  # an ack gets no reply
    assert box.acked("t1", "c1") == clock.now().timestamp()
    assert box.acked("t2", "c1") is None
    assert box.acked("t1", "c2") is None
    box.receive("t1", '{"type": "ack"}')  # malformed: dropped, nothing kept
    assert box.acked("t1", "") is None


def test_the_oldest_acks_are_forgotten_beyond_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inbox, "ACKS_KEPT", 3)
    box = Inbox(FakeClock())
    for n in range(5):
        box.receive("t1", ack(f"c{n}"))
    assert [box.acked("t1", f"c{n}") is not None for n in range(5)] == [
        False,
        False,
        True,
        True,
        True,
    ]


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
    assert beats.admitted == [] and box.status("t1") is None
    box.receive("t1", json.dumps({"type": "status", "push": "polling"}))
    assert beats.admitted == ["t1"]
