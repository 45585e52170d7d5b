"""Command acknowledgements kept by the fleet inbox (no server needed)."""

from __future__ import annotations

import json

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
