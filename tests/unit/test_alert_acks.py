"""The ack batcher (services/alert_acks.py) on a fake store: what arrives
during a write joins the next one, each request gets its own outcome, a
failed batch is retried ack by ack, and shutdown never leaves a request
waiting. The batch's store rules are tested on both stores
(tests/integration/alerts/test_alert_ack_batches.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from lianbo.domain.errors import InvalidInput, NotFound
from lianbo.services.alert_acks import AckBatcher, Closing
from lianbo.services.alert_terminal import Ack, Acked, Outcome


class FakeStore:
    """Applies batches as the store would answer them; can be held or broken."""

    def __init__(self) -> None:
        self.batches: list[list[Ack]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.entered = asyncio.Event()
        self.poison: set[str] = set()  # alerts whose acks break a whole batch

    async def apply(self, acks: Sequence[Ack]) -> Sequence[Outcome]:
        self.entered.set()
        await self.gate.wait()
        if any(a.alert_id in self.poison for a in acks):
            raise RuntimeError("connection reset")
        self.batches.append(list(acks))
        return [
            NotFound(f"no alert {a.alert_id}")
            if a.alert_id == "missing"
            else Acked(a.alert_id, a.state.value, True)
            for a in acks
        ]


async def held(store: FakeStore, batcher: AckBatcher) -> asyncio.Task[Acked]:
    """A first ack whose batch is being written (held) while others arrive."""
    store.gate.clear()
    first = asyncio.create_task(batcher.ack("t0", "a", "received"))
    await store.entered.wait()
    return first


async def test_acks_arriving_during_a_write_go_together_in_the_next() -> None:
    store = FakeStore()
    batcher = AckBatcher(store.apply)
    first = await held(store, batcher)
    rest = [asyncio.create_task(batcher.ack(f"t{i}", "a", "displayed")) for i in range(1, 6)]
    await asyncio.sleep(0)
    store.gate.set()
    assert await first == Acked("a", "received", True)
    assert await asyncio.gather(*rest) == [Acked("a", "displayed", True)] * 5
    assert [len(b) for b in store.batches] == [1, 5]
    assert batcher.batches == 2


async def test_a_batch_holds_at_most_batch_max_acks() -> None:
    store = FakeStore()
    batcher = AckBatcher(store.apply, batch_max=3)
    first = await held(store, batcher)
    rest = [asyncio.create_task(batcher.ack(f"t{i}", "a", "displayed")) for i in range(7)]
    await asyncio.sleep(0)
    store.gate.set()
    await asyncio.gather(first, *rest)
    assert [len(b) for b in store.batches] == [1, 3, 3, 1]


async def test_each_request_gets_its_own_outcome() -> None:
    store = FakeStore()
    batcher = AckBatcher(store.apply)
    first = await held(store, batcher)
    good = asyncio.create_task(batcher.ack("t1", "a", "displayed"))
    missing = asyncio.create_task(batcher.ack("t1", "missing", "displayed"))
    await asyncio.sleep(0)
    store.gate.set()
    await first
    assert await good == Acked("a", "displayed", True)
    with pytest.raises(NotFound, match="no alert missing"):
        await missing
    assert len(store.batches[1]) == 2  # in one batch, answered apart


async def test_a_bad_state_is_refused_before_it_joins_a_batch() -> None:
    store = FakeStore()
    batcher = AckBatcher(store.apply)
    with pytest.raises(InvalidInput, match="state must be one of"):
        await batcher.ack("t1", "a", "launched")
    assert store.batches == []


async def test_a_failed_batch_is_written_ack_by_ack_so_only_the_bad_one_fails() -> None:
    store = FakeStore()
    store.poison = {"broken"}
    batcher = AckBatcher(store.apply)
    first = await held(store, batcher)
    calls = [batcher.ack("t1", "a", "displayed"), batcher.ack("t2", "broken", "displayed")]
    tasks = [asyncio.create_task(c) for c in [*calls, batcher.ack("t3", "a", "failed")]]
    await asyncio.sleep(0)
    store.gate.set()
    await first
    done = await asyncio.gather(*tasks, return_exceptions=True)
    assert done[0] == Acked("a", "displayed", True) and done[2] == Acked("a", "failed", True)
    assert isinstance(done[1], RuntimeError)
    assert [[a.terminal_id for a in b] for b in store.batches] == [["t0"], ["t1"], ["t3"]]


async def test_a_request_that_goes_away_leaves_its_ack_in_the_batch() -> None:
    store = FakeStore()
    batcher = AckBatcher(store.apply)
    first = await held(store, batcher)
    gone = asyncio.create_task(batcher.ack("t1", "a", "displayed"))
    stays = asyncio.create_task(batcher.ack("t2", "a", "displayed"))
    await asyncio.sleep(0)
    gone.cancel()
    store.gate.set()
    await first
    assert await stays == Acked("a", "displayed", True)
    assert [a.terminal_id for a in store.batches[1]] == ["t1", "t2"]


async def test_close_writes_what_waits_then_refuses() -> None:
    store = FakeStore()
    batcher = AckBatcher(store.apply)
    first = await held(store, batcher)
    waiting = asyncio.create_task(batcher.ack("t1", "a", "displayed"))
    await asyncio.sleep(0)
    closing = asyncio.create_task(batcher.close())
    await asyncio.sleep(0)
    assert not closing.done()  # a batch is still being written
    store.gate.set()
    await closing
    assert await first == Acked("a", "received", True)
    assert await waiting == Acked("a", "displayed", True)
    with pytest.raises(Closing):
        await batcher.ack("t2", "a", "displayed")
    await batcher.close()  # twice is fine


async def test_a_cancelled_writer_answers_every_waiting_request() -> None:
    store = FakeStore()
    batcher = AckBatcher(store.apply)
    first = await held(store, batcher)
    waiting = asyncio.create_task(batcher.ack("t1", "a", "displayed"))
    await asyncio.sleep(0)
    writer = batcher._writer
    assert writer is not None
    writer.cancel()  # the loop is going down mid-write
    for task in (first, waiting):
        with pytest.raises(Closing):
            await task
    assert store.batches == []
