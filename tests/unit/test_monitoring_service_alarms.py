"""The alarm desk over an in-memory alarm store (a fake unit of work)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from lianbo.adapters.db.repos.alarms import StoredAlarm
from lianbo.adapters.notify.webhooks import WebhookNotifier
from lianbo.domain.monitoring.alarms import AlarmType
from lianbo.services.alarms import AlarmDesk, observation
from tests.support.clock import FakeClock


class FakeAlarms:
    def __init__(self) -> None:
        self.rows: dict[str, StoredAlarm] = {}

    async def add(self, alarm: StoredAlarm) -> None:
        self.rows[alarm.id] = alarm

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

    async def __aenter__(self) -> FakeUow:
        return self

    async def __aexit__(self, *_: object) -> None:
        pass

    async def commit(self) -> None:
        pass


def desk() -> tuple[AlarmDesk, FakeAlarms, FakeClock, WebhookNotifier]:
    store, clock = FakeAlarms(), FakeClock()
    notifier = WebhookNotifier(["http://127.0.0.1:9/hook"])
    return AlarmDesk(lambda: FakeUow(store), clock, notifier), store, clock, notifier  # type: ignore[arg-type, return-value]


def drift(active: bool) -> Any:
    return observation("t1", AlarmType.CLOCK_DRIFT, active, "hall", {"clock_offset_ms": 9000})


async def test_clock_drift_opens_after_three_reports_over_a_minute_and_resolves() -> None:
    alarms, store, clock, notifier = desk()
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
    assert notifier.queue.qsize() == 1
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
    again = AlarmDesk(lambda: FakeUow(store), clock, WebhookNotifier([]))  # type: ignore[arg-type, return-value]
    assert await again.observe([offline], {"t1": "510107"}) == []  # not a second alarm
    assert again.live("t1", AlarmType.OFFLINE)
    clock.advance(seconds=61)
    assert await again.observe([observation("t1", AlarmType.OFFLINE, False, "outdoor")], {}) == []
    clock.advance(seconds=61)
    [resolved] = await again.observe([observation("t1", AlarmType.OFFLINE, False, "outdoor")], {})
    assert resolved.id == opened.id and resolved.state == "resolved"
    assert timedelta(0) < resolved.resolved_at - opened.opened_at  # type: ignore[operator]
