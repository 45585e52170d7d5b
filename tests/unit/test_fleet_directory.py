"""Batched look-ups: concurrent requests share one fetch."""

from __future__ import annotations

import asyncio

import pytest

from lianbo.adapters.fleet.directory import Batcher


async def test_concurrent_lookups_are_batched() -> None:
    calls: list[list[str]] = []

    async def fetch(keys: list[str]) -> dict[str, int]:
        calls.append(keys)
        await asyncio.sleep(0.01)
        return {k: len(k) for k in keys if k != "missing"}

    batcher: Batcher[str, int] = Batcher(fetch, size=3)
    keys = ["a", "bb", "ccc", "dddd", "missing", "a"]
    found = await asyncio.gather(*(batcher.get(k) for k in keys))
    assert found == [1, 2, 3, 4, None, 1]
    assert calls == [["a", "bb", "ccc"], ["dddd", "missing"]]
    assert await batcher.get("ee") == 2 and calls[-1] == ["ee"]


async def test_a_failed_fetch_fails_its_waiters_only() -> None:
    async def fetch(keys: list[str]) -> dict[str, int]:
        if "bad" in keys:
            raise RuntimeError("store down")
        return dict.fromkeys(keys, 1)

    batcher: Batcher[str, int] = Batcher(fetch)
    with pytest.raises(RuntimeError):
        await batcher.get("bad")
    assert await batcher.get("good") == 1


async def test_a_cancelled_waiter_does_not_break_the_others() -> None:
    gate = asyncio.Event()

    async def fetch(keys: list[str]) -> dict[str, int]:
        await gate.wait()
        return dict.fromkeys(keys, 7)

    batcher: Batcher[str, int] = Batcher(fetch)
    first = asyncio.create_task(batcher.get("k"))
    second = asyncio.create_task(batcher.get("k"))
    await asyncio.sleep(0)
    first.cancel()
    gate.set()
    assert await second == 7
