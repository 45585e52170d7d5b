"""Benchmark ``monitoring_core``: screenshot verification accuracy and speed.

Targets (issue "Safe-broadcast monitoring"): recall ≥ 99 % on
framebuffer-like screenshots at zero false positives over ≥ ``size``
different-content pairs — with and without a ticker band over 10 % of the
frame — and ≥ 200 verifications/s of 1080p JPEG on the 2-core reference
machine.

Content is synthetic (``tests/integration/monitoring/corpus.py``: gradients
with shapes, noise textures, fractal photo-like noise, text slides), each
rendered at 1920×1080 and hashed as the analyser hashes a video frame: the
full frame and the frame above / below a ticker band
(``tracks.picture_hashes``). Every content gets the framebuffer
transformations (1080p / 720p, brightness 0.7 / 1.0 / 1.3; no ticker, a
ticker band over the bottom 10 %, one over the top 10 %; JPEG q50). A shot
matches when any region is within its threshold (``verification.verify``);
a false-positive pair is (shots of content A, track of content B ≠ A) where
some region of some shot of A is within its threshold of B's, so the count
is conservative. ``size`` is the number of pairs; ``isqrt(size - 1) + 2``
contents give at least that many ordered pairs.

Pairs of two text slides are reported apart (``slide_layout_*``): slides of
one layout share their pHash whatever the words, which no threshold fixes;
``chosen_*`` are the largest thresholds with zero false matches over all
other pairs. ``*_full_only`` tells what a track stored before band crops
(full frame only) gives. Camera shots are perspective warped onto a fractal
background, blurred (σ 0.8–2 px), re-lit, JPEG q85, and registered from
corners off by up to 3 px.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import platform
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from tests.integration.monitoring import corpus

from lianbo.adapters.media.screenshots import measure_photo, measure_screenshot
from lianbo.domain.monitoring import verification as rules

DEFAULT_SIZE = 100_000
CAMERA_SHOTS = 200
SPEED_SECONDS = 3.0
# Columns of a shot's hashes: full, full with the bottom band mirrored (an
# alternate), above the bottom band, below the top band. Track columns:
# full, above, below.
FULL, FILLED, ABOVE, BELOW = range(4)
_TRACK_COLUMN = {FULL: 0, FILLED: 0, ABOVE: 1, BELOW: 2}


def _hashes(picture: Any) -> list[tuple[int, int, int, int]]:
    shots = []
    for kind in corpus.SHOT_KINDS:
        shot = measure_screenshot(corpus.framebuffer(picture, *kind)).shot
        filled = shot.alternates[0] if shot.alternates else shot.phash
        shots.append((shot.phash, filled, shot.above or 0, shot.below or 0))
    return shots


def _content(index: int) -> tuple[tuple[int, int, int], list[tuple[int, int, int, int]]]:
    """Track hashes (full, above, below) of content ``index`` and its shots' hashes."""
    picture = corpus.picture(index)
    return corpus.track_hashes(picture), _hashes(picture)


def _expected(picture: Any, offset_s: float = 0.0) -> rules.Expected:
    full, above, below = corpus.track_hashes(picture)
    return rules.Expected([full], offset_s, above=[above], below=[below])


def _camera(index: int) -> bool:
    """Whether a camera-like photo of content ``index`` matches its track."""
    picture = corpus.picture(index)
    data, quad = corpus.camera(picture, np.random.default_rng(index))
    shot = measure_photo(data, quad).shot
    return rules.verify(shot, _expected(picture)).verdict is rules.Verdict.MATCH


def _speed(count: int = 40, seconds: float = SPEED_SECONDS) -> tuple[float, float]:
    """Verifications per second (decode + hash + verify) of 1080p JPEG q80, one core.

    (per wall-clock second, per CPU second of this process): on a machine
    shared with other work the second tells what a free core would do.
    """
    shots = [corpus.jpeg(corpus.picture(i), 80) for i in range(count)]
    tracks = [corpus.track_hashes(corpus.picture(i)) for i in range(5)]
    full, above, below = ([t[column] for t in tracks] for column in range(3))
    expected = rules.Expected(full, 2.0, above=above, below=below)
    done, started, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        shot = measure_screenshot(shots[done % count]).shot
        rules.verify(shot, expected)
        done += 1
    wall_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    return done / wall_s, done / max(cpu_s, 1e-9)


class Distances:
    """Hamming distances of every shot to its own track and to every other track.

    ``same[column]``: contents × kinds; ``cross[column]``: contents (shots) ×
    contents (tracks) × kinds, the diagonal set to 64.
    """

    def __init__(self, tracks: np.ndarray, shots: np.ndarray) -> None:
        n = len(tracks)
        self.same, self.cross = {}, {}
        for column, track_column in _TRACK_COLUMN.items():
            own = tracks[:, track_column]
            self.same[column] = np.bitwise_count(shots[:, :, column] ^ own[:, None]).astype(int)
            cross = np.bitwise_count(shots[:, None, :, column] ^ own[None, :, None]).astype(int)
            cross[np.arange(n), np.arange(n)] = 64
            self.cross[column] = cross

    def full(self, which: dict[int, np.ndarray]) -> np.ndarray:
        """The full frame's distance: the shot's hash or its alternate, the closer."""
        closer: np.ndarray = np.minimum(which[FULL], which[FILLED])
        return closer

    def band(self, which: dict[int, np.ndarray]) -> np.ndarray:
        """The band-free crops' distance: above or below, the closer."""
        closer: np.ndarray = np.minimum(which[ABOVE], which[BELOW])
        return closer

    def matched(self, which: dict[int, np.ndarray], full_max: int, band_max: int) -> np.ndarray:
        """Where ``verify`` says match: any region within its threshold."""
        return (self.full(which) <= full_max) | (self.band(which) <= band_max)

    def far(self, which: dict[int, np.ndarray]) -> np.ndarray:
        """Where ``verify`` says mismatch: every region at or past its threshold."""
        full_far = self.full(which) >= rules.MISMATCH_MIN
        return full_far & (self.band(which) >= rules.BAND_MISMATCH_MIN)


def _recalls(matched: np.ndarray, bands: np.ndarray, suffix: str = "") -> dict[str, float]:
    return {
        f"recall_no_ticker{suffix}": round(float(matched[:, bands == ""].mean()), 4),
        f"recall_ticker{suffix}": round(float(matched[:, bands == corpus.BOTTOM].mean()), 4),
        f"recall_ticker_top{suffix}": round(float(matched[:, bands == corpus.TOP].mean()), 4),
    }


def _accuracy(made: list[Any]) -> dict[str, Any]:
    """Recall, false positives, thresholds and mismatch rates over the corpus."""
    n = len(made)
    d = Distances(
        np.array([t for t, _ in made], dtype=np.uint64),
        np.array([s for _, s in made], dtype=np.uint64),
    )
    bands = np.array([band for _, _, band in corpus.SHOT_KINDS])
    slide = np.arange(n) % len(corpus.GENERATORS) == corpus.GENERATORS.index(corpus.slide)
    layout = slide[:, None] & slide[None, :]
    other = np.where(layout[:, :, None], 64, 0)
    full_other = int((np.maximum(d.full(d.cross), other)).min())
    band_other = int((np.maximum(d.band(d.cross), other)).min())
    chosen_full, chosen_band = full_other - 1, band_other - 1
    false = d.matched(d.cross, rules.MATCH_MAX, rules.BAND_MATCH_MAX).any(axis=2)  # diagonal: 64
    same = d.matched(d.same, rules.MATCH_MAX, rules.BAND_MATCH_MAX)
    old_same = d.full(d.same) <= rules.MATCH_MAX
    off = ~np.eye(n, dtype=bool)[:, :, None]
    return {
        "pairs": n * (n - 1),
        "contents": n,
        "shots": n * len(corpus.SHOT_KINDS),
        "match_max": rules.MATCH_MAX,
        "band_match_max": rules.BAND_MATCH_MAX,
        "false_positives_at_match_max": int(np.count_nonzero(false & ~layout)),
        "false_positives_slide_layout_pairs": int(np.count_nonzero(false & layout)),
        "slide_layout_pairs": int(np.count_nonzero(layout)) - int(np.count_nonzero(slide)),
        "nearest_different_distance_full": full_other,
        "nearest_different_distance_band": band_other,
        "chosen_threshold_full": chosen_full,
        "chosen_threshold_band": chosen_band,
        "recall_at_chosen": round(float(d.matched(d.same, chosen_full, chosen_band).mean()), 4),
        "recall_at_match_max": round(float(same.mean()), 4),
        **_recalls(same, bands),
        **_recalls(old_same, bands, "_full_only"),
        "same_distance_p99": float(np.percentile(np.minimum(d.full(d.same), d.band(d.same)), 99)),
        "mismatch_min": rules.MISMATCH_MIN,
        "band_mismatch_min": rules.BAND_MISMATCH_MIN,
        "false_mismatch_rate": round(float(d.far(d.same).mean()), 5),
        "mismatch_detection_rate": round(
            float(d.far(d.cross)[np.broadcast_to(off, d.cross[FULL].shape)].mean()), 4
        ),
    }


def run(size: int, data_dir: Path | None = None, **options: Any) -> dict[str, Any]:
    """Measure; see the module docstring. ``data_dir`` is unused (all in memory).

    Options: ``workers`` (processes), ``speed_pictures`` and ``speed_seconds``
    (the throughput sample), ``camera_shots``.
    """
    contents = math.isqrt(max(size, 2) - 1) + 2
    workers = int(options.get("workers", os.cpu_count() or 1))
    pictures = int(options.get("speed_pictures", 40))
    seconds = float(options.get("speed_seconds", SPEED_SECONDS))
    cameras = min(int(options.get("camera_shots", CAMERA_SHOTS)), contents)
    started = time.perf_counter()
    # spawn, not fork: a forked child can inherit a lock another thread held
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=spawn) as pool:
        made = list(pool.map(_content, range(contents), chunksize=4))
        camera = list(pool.map(_camera, range(cameras), chunksize=4))
        rates = list(pool.map(_speed, [pictures] * workers, [seconds] * workers))
    one = _speed(pictures, seconds)
    return {
        **_accuracy(made),
        "camera_shots": len(camera),
        "camera_recall": round(sum(camera) / max(len(camera), 1), 4),
        "verifications_per_s_1080p_jpeg_one_core": round(one[0], 1),
        "verifications_per_cpu_s_1080p_jpeg": round(one[1], 1),
        "verifications_per_s_1080p_jpeg_all_workers": round(sum(r[0] for r in rates), 1),
        "corpus_seconds": round(time.perf_counter() - started, 1),
        "workers": workers,
        "machine": f"{platform.machine()} {os.cpu_count()} cpu",
    }
