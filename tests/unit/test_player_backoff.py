"""Reconnect pacing: exponential, capped, fully jittered; transitions logged once."""

from __future__ import annotations

import logging
import random
import statistics

import pytest

from lianbo.player.backoff import Backoff, Link


def test_delays_grow_exponentially_up_to_the_cap() -> None:
    backoff = Backoff(base=1.0, cap=60.0, rng=random.Random(1))
    ceilings = []
    for _ in range(10):
        ceilings.append(backoff.ceiling())
        backoff.next_delay()
    assert ceilings == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]


def test_each_delay_is_jittered_between_zero_and_the_ceiling() -> None:
    backoff = Backoff(base=0.5, cap=8.0, rng=random.Random(2))
    for _ in range(200):
        ceiling = backoff.ceiling()
        assert 0 <= backoff.next_delay() <= ceiling <= 8.0


def test_a_thousand_screens_do_not_come_back_in_the_same_second() -> None:
    """After a server restart each screen has failed a few times: their next
    attempts spread over the whole window instead of landing together."""
    rng = random.Random(3)
    delays = []
    for _ in range(1000):
        backoff = Backoff(base=1.0, cap=60.0, rng=rng)
        for _ in range(6):
            backoff.next_delay()
        delays.append(backoff.next_delay())
    assert max(delays) <= 60.0
    per_second = [sum(1 for d in delays if s <= d < s + 1) for s in range(60)]
    assert max(per_second) < 60  # uniform: about 17 per second, never a stampede
    assert 25 < statistics.mean(delays) < 35


def test_a_success_starts_over_from_the_base() -> None:
    backoff = Backoff(base=1.0, cap=60.0, rng=random.Random(4))
    for _ in range(8):
        backoff.next_delay()
    backoff.reset()
    assert backoff.ceiling() == 1.0


def test_nonsense_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        Backoff(base=0, cap=1)
    with pytest.raises(ValueError):
        Backoff(base=5, cap=1)


def test_a_link_logs_once_going_down_and_once_coming_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    link = Link("control centre")
    with caplog.at_level(logging.INFO, logger="lianbo.player"):
        assert link.ok() is False  # first contact is not a comeback
        for _ in range(5):
            link.failed("connection refused")
        assert link.ok() is True
        link.ok()
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "control centre is unavailable: connection refused",
        "control centre is back",
    ]
    assert (link.successes, link.failures) == (3, 5)
