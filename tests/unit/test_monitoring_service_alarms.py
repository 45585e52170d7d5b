"""The alarm desk over an in-memory alarm store (a fake unit of work)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from lianbo.adapters.db.repos.alarms import StoredAlarm
from lianbo.adapters.db.repos.webhook_deliveries import WebhookDelivery
from lianbo.config import Settings
from lianbo.domain.events import WebhooksQueued
from lianbo.domain.monitoring.alarms import AlarmType
from lianbo.services.alarm_desk import AlarmDesk
from lianbo.services.alarms import observation
from lianbo.services.webhook_outbox import WebhookOutbox
from tests.support.clock import FakeClock


class FakeWebhooks:
    """The outbox table: what was queued, in order."""

    def __init__(self) -> None:
        self.rows: list[WebhookDelivery] = []

    async def add(self, delivery: WebhookDelivery, now: datetime) -> None:
        self.rows.append(delivery)

    def events(self) -> list[str]:
        return [d.payload["event"] for d in self.rows]


class FakeAlarms:
    def __init__(self) -> None:
        self.rows: dict[str, StoredAlarm] = {}
        self.hooks = FakeWebhooks()
        self.recorded: list[object] = []  # events recorded on its units of work

    async def add(self, alarm: StoredAlarm) -> bool:
        if await self.live_for(alarm.terminal_id, alarm.type) is not None:
            return False  # the store's unique index on live (terminal, type)
        self.rows[alarm.id] = alarm
        return True

    async def live_for(self, terminal_id: str, kind: str) -> StoredAlarm | None:
        found = await self.live_of([terminal_id], kind)
        return found[0] if found else None

    async def live_of(self, terminal_ids: list[str], kind: str) -> list[StoredAlarm]:
        return [a for a in await self.live() if a.terminal_id in terminal_ids and a.type == kind]

    async def resolve_live(self, alarm_id: str, at: datetime, by: str) -> bool:
        if self.rows[alarm_id].state == "resolved":
            return False
        await self.set(alarm_id, state="resolved", resolved_at=at, resolved_by=by)
        return True

    async def get(self, alarm_id: str) -> StoredAlarm | None:
        return self.rows.get(alarm_id)

    async def live(self) -> list[StoredAlarm]:
        return [a for a in self.rows.values() if a.state != "resolved"]

    async def set(self, alarm_id: str, **values: Any) -> None:
        self.rows[alarm_id] = replace(self.rows[alarm_id], **values)

    async def bump(self, counts: dict[str, int]) -> None:
        for alarm_id, n in counts.items():
            self.rows[alarm_id] = replace(self.rows[alarm_id], count=self.rows[alarm_id].count + n)


class FakeUow:
    def __init__(self, alarms: FakeAlarms) -> None:
        self.alarms = alarms
        self.webhooks = alarms.hooks
        self.recorded = alarms.recorded

    def record(self, event: object) -> None:
        self.recorded.append(event)

    async def __aenter__(self) -> FakeUow:
        return self

    async def __aexit__(self, *_: object) -> None:
        pass

    async def commit(self) -> None:
        pass


def outbox(store: FakeAlarms, clock: FakeClock) -> WebhookOutbox:
    settings = Settings(alarm_webhooks=["http://127.0.0.1:9/hook"])
    return WebhookOutbox(lambda: FakeUow(store), clock, settings)  # type: ignore[arg-type, return-value]


def desk() -> tuple[AlarmDesk, FakeAlarms, FakeClock, FakeWebhooks]:
    store, clock = FakeAlarms(), FakeClock()
    hooks = outbox(store, clock)
    return AlarmDesk(lambda: FakeUow(store), clock, hooks), store, clock, store.hooks  # type: ignore[arg-type, return-value]


def drift(active: bool) -> Any:
    return observation("t1", AlarmType.CLOCK_DRIFT, active, "hall", {"clock_offset_ms": 9000})


async def test_clock_drift_opens_after_three_reports_over_a_minute_and_resolves() -> None:
    alarms, store, clock, hooks = desk()
    for _ in range(2):
        assert await alarms.observe([drift(True)], {"t1": "510107"}) == []
        clock.advance(seconds=30)
    [opened] = await alarms.observe([drift(True)], {"t1": "510107"})
    assert (opened.type, opened.severity, opened.region, opened.tier) == (
        "clock-drift",
        "warning",
        "510107",
        "hall",
    )
    assert hooks.events() == ["opened"]  # queued with the alarm, in its transaction
    await alarms.observe([drift(True)], {"t1": "510107"})
    assert store.rows[opened.id].count == 2  # deduplicated: one alarm, seen twice
    await alarms.observe([drift(False)], {"t1": "510107"})
    clock.advance(seconds=301)
    [resolved] = await alarms.observe([drift(False)], {"t1": "510107"})
    assert resolved.state == "resolved" and resolved.resolved_by == "system"


async def test_healthy_screens_leave_the_book_empty() -> None:
    alarms, store, _, _ = desk()
    healthy = [
        observation(f"t{n}", kind, False, "home")
        for n in range(500)
        for kind in (AlarmType.CLOCK_DRIFT, AlarmType.STORAGE_LOW)
    ]
    assert await alarms.observe(healthy, {}) == []
    assert alarms.book.trackers == {} and store.rows == {}


async def test_a_flap_inside_one_batch_resets_the_run() -> None:
    alarms, _, clock, _ = desk()
    batch = []
    for _ in range(4):
        batch += [drift(True), drift(False)]
    for _ in range(3):
        assert await alarms.observe(batch, {"t1": "510107"}) == []
        clock.advance(seconds=40)


async def test_a_restart_keeps_open_alarms_open() -> None:
    alarms, store, clock, _ = desk()
    offline = observation("t1", AlarmType.OFFLINE, True, "outdoor")
    [opened] = await alarms.observe([offline], {"t1": "510107"})
    again = AlarmDesk(lambda: FakeUow(store), clock, outbox(store, clock))  # type: ignore[arg-type, return-value]
    assert await again.observe([offline], {"t1": "510107"}) == []  # not a second alarm
    assert again.live("t1", AlarmType.OFFLINE)
    clock.advance(seconds=61)
    assert await again.observe([observation("t1", AlarmType.OFFLINE, False, "outdoor")], {}) == []
    clock.advance(seconds=61)
    [resolved] = await again.observe([observation("t1", AlarmType.OFFLINE, False, "outdoor")], {})
    assert resolved.id == opened.id and resolved.state == "resolved"
    assert timedelta(0) < resolved.resolved_at - opened.opened_at  # type: ignore[operator]


def other_process(store: FakeAlarms, clock: FakeClock) -> AlarmDesk:
    """A second process's desk over the same store (its book is its own memory)."""
    return AlarmDesk(lambda: FakeUow(store), clock, outbox(store, clock))  # type: ignore[arg-type, return-value]


async def test_two_processes_opening_one_alarm_store_and_notify_it_once() -> None:
    first, store, clock, hooks = desk()
    offline = observation("t1", AlarmType.OFFLINE, True, "outdoor")
    second = other_process(store, clock)
    await first._load()  # both books loaded before either opens it: neither knows
    await second._load()
    [opened] = await first.observe([offline], {"t1": "510107"})
    assert await second.observe([offline], {"t1": "510107"}) == []  # the store refused a twin
    assert [a.id for a in store.rows.values()] == [opened.id]
    assert hooks.events() == ["opened"]
    assert second.ids[("t1", AlarmType.OFFLINE)] == opened.id  # it adopted the stored one
    clock.advance(seconds=121)
    all_clear = observation("t1", AlarmType.OFFLINE, False, "outdoor")
    for _ in range(2):  # condition absent for the resolve hold-off, seen by both
        await first.observe([all_clear], {})
        await second.observe([all_clear], {})
        clock.advance(seconds=61)
    assert store.rows[opened.id].state == "resolved"
    assert hooks.events() == ["opened", "resolved"]  # each once


async def test_a_screen_back_learns_its_offline_alarm_from_the_store() -> None:
    leader, store, clock, _ = desk()
    [opened] = await leader.observe(
        [observation("t1", AlarmType.OFFLINE, True, "outdoor")], {"t1": "510107"}
    )
    elsewhere = other_process(store, clock)
    await elsewhere._load()
    assert elsewhere.live("t1", AlarmType.OFFLINE)  # loaded from the store
    elsewhere.ids.clear()  # as if it had loaded before the leader opened it
    elsewhere.book = replace(elsewhere.book, alarms={})
    await elsewhere.adopt(["t1"], AlarmType.OFFLINE)
    assert elsewhere.ids[("t1", AlarmType.OFFLINE)] == opened.id


async def test_alarms_opened_together_queue_their_webhooks_with_one_wake_up() -> None:
    alarms, store, _, hooks = desk()
    found = [observation(f"t{n}", AlarmType.OFFLINE, True, "outdoor") for n in range(3)]
    opened = await alarms.observe(found, {})
    assert len(opened) == 3 and hooks.events() == ["opened"] * 3
    assert store.recorded == [WebhooksQueued()]  # one NOTIFY, not one per alarm
