"""One batch of acks (services/alert_terminal.apply_acks) on a fake store:
the rows read once, each row moved once to the furthest state with every
moment on the way, many rows per statement, one commit. The same rules on
both real stores: tests/integration/alerts/test_alert_ack_batches.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from lianbo.domain.alerting.deliveries import DeliveryState as S
from lianbo.domain.alerting.deliveries import Step
from lianbo.domain.errors import NotFound
from lianbo.services.alert_terminal import Ack, Acked, apply_acks

NOW = datetime(2026, 7, 10, 7, 0, tzinfo=UTC)
Key = tuple[str, str]


class FakeDeliveries:
    """Rows as (state, stamped moments, reason); statements counted."""

    def __init__(self, rows: dict[Key, S]) -> None:
        self.rows: dict[Key, tuple[S, set[S], str | None]] = {
            k: (s, set(), None) for k, s in rows.items()
        }
        self.reads: list[list[Key]] = []
        self.updates: list[tuple[str, list[str], Step]] = []

    async def states(self, keys: Sequence[Key], *, lock: bool = False) -> dict[Key, S]:
        self.reads.append(list(keys))
        return {k: self.rows[k][0] for k in keys if k in self.rows}

    async def advance_many(
        self, alert_id: str, terminal_ids: Sequence[str], step: Step, now: datetime
    ) -> set[str]:
        self.updates.append((alert_id, list(terminal_ids), step))
        moved = set()
        for terminal_id in terminal_ids:
            state, moments, reason = self.rows[(alert_id, terminal_id)]
            if state in step.sources:
                self.rows[(alert_id, terminal_id)] = (
                    step.state,
                    moments | set(step.moments),
                    step.reason if step.reason is not None else reason,
                )
                moved.add(terminal_id)
        return moved


class FakeMissing:
    """No alert and no terminal is known besides the rows."""

    async def get(self, _id: str) -> None:
        return None


class FakeUow:
    def __init__(self, rows: dict[Key, S]) -> None:
        self.deliveries = FakeDeliveries(rows)
        self.alerts = self.terminals = FakeMissing()
        self.commits = 0

    async def commit(self) -> None:
        self.commits += 1


async def run(uow: FakeUow, acks: list[Ack]) -> list[Any]:
    return list(await apply_acks(uow, NOW, acks))  # type: ignore[arg-type]


async def test_a_fleets_displayed_acks_are_one_read_one_update_one_commit() -> None:
    screens = [f"t{i:03d}" for i in range(300)]
    uow = FakeUow({("a", t): S.SENT for t in screens})
    outcomes = await run(uow, [Ack(t, "a", S.DISPLAYED) for t in reversed(screens)])
    assert outcomes == [Acked("a", "displayed", True)] * 300
    assert len(uow.deliveries.reads) == 1 and uow.deliveries.reads[0] == sorted(
        uow.deliveries.reads[0]
    )
    [(alert_id, moved, step)] = uow.deliveries.updates
    assert alert_id == "a" and sorted(moved) == screens and step.state is S.DISPLAYED
    assert uow.commits == 1


async def test_one_screens_acks_are_merged_into_one_step() -> None:
    uow = FakeUow({("a", "t1"): S.SENT})
    outcomes = await run(
        uow,
        [
            Ack("t1", "a", S.RECEIVED, "first"),
            Ack("t1", "a", S.FAILED, "no codec"),
            Ack("t1", "a", S.DISPLAYED),  # another outcome: never replaces
        ],
    )
    assert outcomes == [
        Acked("a", "received", True),
        Acked("a", "failed", True),
        Acked("a", "failed", False),
    ]
    [(_, _, step)] = uow.deliveries.updates
    assert step.state is S.FAILED and step.reason == "no codec"
    assert set(step.moments) == {S.RECEIVED, S.FAILED}
    assert uow.deliveries.rows[("a", "t1")] == (S.FAILED, {S.RECEIVED, S.FAILED}, "no codec")


async def test_an_unknown_alert_is_its_own_404_and_the_rest_is_kept() -> None:
    uow = FakeUow({("a", "t1"): S.RECEIVED, ("a", "t2"): S.DISPLAYED})
    outcomes = await run(
        uow,
        [Ack("t1", "gone", S.DISPLAYED), Ack("t1", "a", S.VERIFIED), Ack("t2", "a", S.RECEIVED)],
    )
    assert isinstance(outcomes[0], NotFound)
    assert outcomes[1:] == [Acked("a", "verified", True), Acked("a", "displayed", False)]
    assert [moved for _, moved, _ in uow.deliveries.updates] == [["t1"]]  # t2: nothing to do
    assert uow.commits == 1
