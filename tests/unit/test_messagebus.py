"""The message bus and the unit of work's events, on fakes (no store)."""

from __future__ import annotations

from typing import Any

import pytest

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain import events as ev
from lianbo.services.messagebus import MessageBus


class FakeSession:
    """What the unit of work asks of a session: records, never stores."""

    def __init__(self, fail_commit: bool = False) -> None:
        self.fail_commit = fail_commit
        self.executed: list[dict[str, Any]] = []
        self.committed = False

    async def execute(self, _statement: object, params: dict[str, Any]) -> None:
        self.executed.append(params)

    async def commit(self) -> None:
        if self.fail_commit:
            raise RuntimeError("commit failed")
        self.committed = True

    async def rollback(self) -> None: ...

    async def close(self) -> None: ...


class Seen:
    def __init__(self) -> None:
        self.events: list[tuple[str, ev.Event]] = []

    def handler(self, label: str) -> Any:
        async def handle(event: ev.Event) -> None:
            self.events.append((label, event))

        return handle


def _bus(remote: bool = False) -> tuple[MessageBus, Seen]:
    bus, seen = MessageBus("p1", remote=remote), Seen()
    bus.subscribe(ev.TerminalRetired, seen.handler("everywhere"), everywhere=True)
    bus.subscribe(ev.TerminalRetired, seen.handler("here"), everywhere=False)
    return bus, seen


def _uow(bus: MessageBus, session: FakeSession) -> UnitOfWork:
    return UnitOfWork(lambda: session, bus)  # type: ignore[arg-type]


async def test_events_are_handled_after_the_commit() -> None:
    bus, seen = _bus()
    session = FakeSession()
    async with _uow(bus, session) as uow:
        uow.record(ev.TerminalRetired("t1"))
        assert seen.events == []  # not before the commit
        await uow.commit()
        assert session.committed
    assert seen.events == [
        ("everywhere", ev.TerminalRetired("t1")),
        ("here", ev.TerminalRetired("t1")),
    ]


async def test_a_rollback_drops_the_events() -> None:
    bus, seen = _bus()
    async with _uow(bus, FakeSession()) as uow:
        uow.record(ev.TerminalRetired("t1"))
    async with _uow(bus, FakeSession()) as uow:
        await uow.commit()  # a later commit on a fresh unit of work
    assert seen.events == []


async def test_a_failed_commit_handles_nothing() -> None:
    bus, seen = _bus()
    with pytest.raises(RuntimeError):
        async with _uow(bus, FakeSession(fail_commit=True)) as uow:
            uow.record(ev.TerminalRetired("t1"))
            await uow.commit()
    assert seen.events == []


async def test_events_travel_inside_the_transaction_when_remote() -> None:
    bus, _ = _bus(remote=True)
    session = FakeSession()
    async with _uow(bus, session) as uow:
        uow.record(ev.TerminalRetired("t1"))
        await uow.commit()
    assert [ev.unwrap(p["envelope"]) for p in session.executed] == [
        ("p1", ev.TerminalRetired("t1"))
    ]


async def test_nothing_is_staged_in_one_process() -> None:
    bus, _ = _bus()
    session = FakeSession()
    async with _uow(bus, session) as uow:
        uow.record(ev.TerminalRetired("t1"))
        await uow.commit()
    assert session.executed == []


async def test_another_process_runs_only_the_everywhere_handlers() -> None:
    bus, seen = _bus()
    await bus.received(ev.wrap("p2", ev.TerminalRetired("t1")))
    assert seen.events == [("everywhere", ev.TerminalRetired("t1"))]


async def test_an_event_from_this_process_is_not_handled_twice() -> None:
    bus, seen = _bus()
    await bus.received(ev.wrap("p1", ev.TerminalRetired("t1")))
    assert seen.events == []


async def test_an_envelope_not_understood_is_skipped() -> None:
    bus, seen = _bus()
    await bus.received('{"origin": "p2", "event": {"type": "FromTheFuture"}}')
    await bus.received(ev.wrap("p2", ev.TerminalRetired("t2")))
    assert seen.events == [("everywhere", ev.TerminalRetired("t2"))]


async def test_a_failing_handler_stops_no_other() -> None:
    bus, seen = MessageBus("p1"), Seen()

    async def broken(_event: ev.Event) -> None:
        raise RuntimeError("boom")

    bus.subscribe(ev.AlertIssued, broken, everywhere=True)
    bus.subscribe(ev.AlertIssued, seen.handler("after"), everywhere=False)
    await bus.handle([ev.AlertIssued("a1")])
    assert seen.events == [("after", ev.AlertIssued("a1"))]


async def test_revalidation_runs_every_hook_even_after_a_failure() -> None:
    bus = MessageBus("p1")
    ran: list[str] = []

    async def broken() -> None:
        raise RuntimeError("boom")

    async def fine() -> None:
        ran.append("fine")

    bus.on_revalidate(broken)
    bus.on_revalidate(fine)
    await bus.revalidate()
    assert ran == ["fine"]


def test_alone_the_bus_is_always_connected() -> None:
    assert MessageBus("p1").connected


async def test_the_lag_is_the_slowest_event_of_the_last_minute() -> None:
    wall, mono = [1000.0], [0.0]
    bus = MessageBus("p1", wall=lambda: wall[0], monotonic=lambda: mono[0])
    assert bus.lag_seconds == 0.0  # a quiet bus is not a lagging one
    await bus.received(ev.wrap("p2", ev.AlertIssued("a1"), sent_at=999.7))
    mono[0] = 10.0
    await bus.received(ev.wrap("p2", ev.AlertIssued("a2"), sent_at=999.95))
    assert bus.lag_seconds == pytest.approx(0.3)
    mono[0] = 65.0  # the slow one is over a minute old
    assert bus.lag_seconds == pytest.approx(0.05)
    mono[0] = 200.0
    assert bus.lag_seconds == 0.0


async def test_staged_envelopes_carry_when_they_were_sent() -> None:
    bus = MessageBus("p1", remote=True, wall=lambda: 1234.5)
    [text] = bus.envelopes([ev.AlertIssued("a1")])
    assert ev.open_envelope(text) == ev.Envelope("p1", ev.AlertIssued("a1"), 1234.5)
