"""Our BS.1770 meter against FFmpeg's ebur128 on the same samples (no files)."""

from __future__ import annotations

import numpy as np
import pytest

from lianbo.adapters.media.loudness import LoudnessMeter
from lianbo.adapters.media.reference import ebur128_of_samples
from tests.integration.media.signals import pinkish_noise, tone

pytestmark = pytest.mark.integration


def measure(samples: np.ndarray, rate: int, chunk: int = 1000) -> LoudnessMeter:
    meter = LoudnessMeter(rate, ["FL", "FR"])
    for start in range(0, samples.shape[1], chunk):  # odd chunks: state must carry over
        meter.add(samples[:, start : start + chunk].astype(np.float64))
    return meter


@pytest.mark.parametrize("rate", [48_000, 44_100, 32_000])
def test_integrated_loudness_matches_ebur128(rate: int) -> None:
    noise = pinkish_noise(8.0)[:, : 8 * rate] * 0.05  # same noise, read at another rate
    reference, reference_peak = ebur128_of_samples(noise, rate)
    meter = measure(noise, rate)
    assert meter.integrated() == pytest.approx(reference, abs=0.1)
    peak = meter.true_peak_dbtp()
    assert peak is not None and peak == pytest.approx(reference_peak, abs=0.5)


def test_gating_ignores_silence_around_the_programme() -> None:
    audio = np.concatenate([np.zeros((2, 48_000 * 5)), tone(5.0, -20.0)], axis=1)
    level = measure(audio, 48_000).integrated()
    # Only the blocks straddling the start of the tone pull it below −20.
    assert level == pytest.approx(-20.0, abs=0.2)
    assert level == pytest.approx(ebur128_of_samples(audio, 48_000)[0], abs=0.1)


def test_digital_silence_has_no_loudness_and_no_peak() -> None:
    meter = measure(np.zeros((2, 48_000 * 3)), 48_000)
    assert meter.integrated() is None and meter.true_peak_dbtp() is None


def test_true_peak_sees_between_samples() -> None:
    # A quarter-rate sine sampled at 45° phase: samples peak at 0.707 of the wave.
    t = np.arange(48_000)
    wave = 0.9 * np.sin(2 * np.pi * t / 4 + np.pi / 4)
    meter = measure(np.vstack([wave, wave]), 48_000)
    sample_peak = 20 * np.log10(np.abs(wave).max())
    peak = meter.true_peak_dbtp()
    assert peak is not None and peak > sample_peak + 2.5


def test_loudness_range_of_a_two_level_programme() -> None:
    audio = np.concatenate([tone(10.0, -30.0), tone(10.0, -20.0)], axis=1)
    lra = measure(audio, 48_000).loudness_range()
    assert lra == pytest.approx(10.0, abs=0.5)
