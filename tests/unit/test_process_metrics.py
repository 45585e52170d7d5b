"""Cluster figures on /metrics: optional sources, the process label, the cache."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from typing import Any

import pytest
import structlog
from prometheus_client import CollectorRegistry, Counter, generate_latest

from lianbo.api.process_metrics import ProcessLabelled, cluster_metrics
from lianbo.config import Settings
from lianbo.domain.regions import Region
from lianbo.services.cluster_health import ClusterHealth, InProcessJobs
from tests.support.clock import FakeClock
from tests.support.metrics import samples, value


@dataclass
class FakeLeader:
    is_leader: bool = False


@dataclass
class FakeBus:
    connected: bool = False
    lag_seconds: float = 0.0


@dataclass
class FakeTerminals:
    counts: list[tuple[str, int, int]] = field(default_factory=list)
    reads: int = 0

    async def offline_by_province(self) -> list[tuple[str, int, int]]:
        self.reads += 1
        return list(self.counts)


class FakeRegions:
    async def many(self, codes: list[str]) -> dict[str, Region]:
        return {c: Region(c, "四川省", None, "四川省") for c in codes if c == "51"}


@dataclass
class FakeUow:
    terminals: FakeTerminals = field(default_factory=FakeTerminals)
    regions: FakeRegions = field(default_factory=FakeRegions)


def text_of(health_figures: Any) -> str:
    return generate_latest(cluster_metrics(health_figures)).decode()


async def test_a_follower_with_a_lagging_bus_says_so() -> None:
    health = ClusterHealth(
        FakeClock(), leader=FakeLeader(False), bus=FakeBus(connected=False, lag_seconds=2.5)
    )
    text = text_of(await health.figures(FakeUow()))  # type: ignore[arg-type]
    assert value(text, "lianbo_leader") == 0
    assert value(text, "lianbo_bus_connected") == 0
    assert value(text, "lianbo_bus_lag_seconds") == 2.5
    assert value(text, "lianbo_jobs_pending") is None  # no queue here: left out


async def test_without_leadership_the_one_process_leads_and_counts_its_queue() -> None:
    queue: asyncio.Queue[str] = asyncio.Queue()
    queue.put_nowait("asset-1")
    health = ClusterHealth(FakeClock(), jobs=InProcessJobs(queue))
    text = text_of(await health.figures(FakeUow()))  # type: ignore[arg-type]
    assert value(text, "lianbo_leader") == 1
    assert value(text, "lianbo_jobs_pending") == 1
    assert value(text, "lianbo_bus_lag_seconds") is None


async def test_screens_offline_are_named_by_province_and_cached_on_the_clock() -> None:
    clock = FakeClock()
    uow = FakeUow(FakeTerminals([("51", 10, 3), ("99", 2, 2)]))
    health = ClusterHealth(clock)
    text = text_of(await health.figures(uow))  # type: ignore[arg-type]
    assert value(text, "lianbo_screens_offline", region="51", region_name="四川省") == 3
    assert value(text, "lianbo_screens_in_service", region="51") == 10
    assert value(text, "lianbo_screens_offline", region="99", region_name="99") == 2  # unknown
    uow.terminals.counts = [("51", 10, 4)]
    clock.advance(seconds=4.9)
    await health.figures(uow)  # type: ignore[arg-type]
    assert uow.terminals.reads == 1
    clock.advance(seconds=0.1)
    text = text_of(await health.figures(uow))  # type: ignore[arg-type]
    assert uow.terminals.reads == 2
    assert value(text, "lianbo_screens_offline", region="51") == 4


async def test_a_clock_set_back_does_not_freeze_the_cache() -> None:
    clock = FakeClock()
    uow = FakeUow(FakeTerminals([("51", 1, 0)]))
    health = ClusterHealth(clock)
    await health.figures(uow)  # type: ignore[arg-type]
    clock.advance(hours=-1)
    await health.figures(uow)  # type: ignore[arg-type]
    assert uow.terminals.reads == 2


def test_every_sample_gets_the_process_label_and_keeps_its_own() -> None:
    registry = CollectorRegistry()
    Counter("lianbo_things", "Things", ["kind"], registry=registry).labels("a").inc(2)
    text = generate_latest(ProcessLabelled("api-1", [registry])).decode()
    assert value(text, "lianbo_things_total", process="api-1", kind="a") == 2
    assert all(s.labels["process"] == "api-1" for s in samples(text))


def test_the_process_name_defaults_to_host_and_pid_and_refuses_spaces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LIANBO_PROCESS_NAME", raising=False)
    assert Settings().process_name.endswith(f"-{os.getpid()}")
    assert Settings(process_name="api-2").process_name == "api-2"
    with pytest.raises(ValueError, match="process_name"):
        Settings(process_name="api 2")


def test_losing_and_regaining_the_store_is_logged_once_each_way() -> None:
    health = ClusterHealth(FakeClock())
    with structlog.testing.capture_logs() as logs:
        assert health.store_answered(None)
        assert not health.store_answered(OSError("refused"))
        assert not health.store_answered(OSError("refused"))
        assert health.store_answered(None)
        assert health.store_answered(None)
    assert [e["event"] for e in logs] == [
        "metrics: the store does not answer",
        "metrics: the store answers again",
    ]
