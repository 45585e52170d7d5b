"""Clock offset estimation, and simulcast across screens whose clocks disagree."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from lianbo.player.clock import OffsetEstimator, ServerClock
from lianbo.player.schedule import slot_at
from lianbo.protocol.manifest import verify
from tests.unit.test_protocol_manifest import Signer, manifest_body

TRUE_NOW = datetime(2026, 11, 23, 10, 17, 30, 123000, tzinfo=UTC).timestamp()


class SkewedClock:
    """A terminal's clock: the true time plus its own error."""

    def __init__(self, error: float) -> None:
        self.error = error
        self.true = TRUE_NOW

    def time(self) -> float:
        return self.true + self.error

    def monotonic(self) -> float:
        return self.true


def exchange(estimator: OffsetEstimator, clock: SkewedClock, out: float, back: float) -> None:
    """One time request: ``out`` seconds to the server, ``back`` to return."""
    t0 = clock.time()
    server_time = clock.true + out  # the server's clock is the true one
    clock.true += out + back
    estimator.add(t0, server_time, clock.time())


def test_symmetric_exchanges_find_the_offset_exactly() -> None:
    clock, estimator = SkewedClock(error=3.25), OffsetEstimator()
    assert estimator.offset == 0.0
    for _ in range(4):
        exchange(estimator, clock, 0.020, 0.020)
    assert abs(estimator.offset - -3.25) < 1e-9


def test_slow_lopsided_exchanges_are_outvoted_by_fast_ones() -> None:
    clock, estimator = SkewedClock(error=-1.5), OffsetEstimator(keep=8, best=4)
    for out, back in [(0.9, 0.05), (0.004, 0.005), (0.05, 1.2), (0.005, 0.004)]:
        exchange(estimator, clock, out, back)
    for out, back in [(0.006, 0.006), (0.7, 0.01), (0.005, 0.005), (0.01, 2.0)]:
        exchange(estimator, clock, out, back)
    # The four fastest exchanges are within a few ms of symmetric.
    assert abs(estimator.offset - 1.5) < 0.002


def test_an_exchange_across_a_clock_step_is_ignored() -> None:
    estimator = OffsetEstimator()
    estimator.add(t0=100.0, server_time=50.0, t1=99.0)  # t1 < t0: the clock stepped back
    assert estimator.samples == 0


def test_two_screens_with_different_clocks_show_the_same_frame() -> None:
    """Simulcast: each screen corrects its clock, then both compute the same
    item and offset into it, whatever their own clocks say."""
    signer = Signer()
    envelope = signer.envelope(manifest_body())
    rng = random.Random(7)
    frames = []
    for error in (+4.321, -2.718):
        screen = SkewedClock(error)
        estimator = OffsetEstimator()
        for _ in range(8):
            delay = rng.uniform(0.002, 0.008)
            exchange(estimator, screen, delay, delay + rng.uniform(-0.0005, 0.0005))
        screen.true = TRUE_NOW  # both look at the same true moment
        server = ServerClock(screen, estimator)
        now = server.now()
        manifest = verify(envelope, signer.keys, now=now)
        slot = slot_at(manifest, now)
        frames.append((slot.index, slot.offset_ms, now))
    (index_a, offset_a, now_a), (index_b, offset_b, now_b) = frames
    assert abs(now_a - now_b) < timedelta(milliseconds=1)
    assert index_a == index_b
    assert abs(offset_a - offset_b) <= 1
