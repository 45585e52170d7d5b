"""Benchmark ``monitoring_core``: screenshot verification accuracy and speed.

Targets (issue "Safe-broadcast monitoring"): recall ≥ 99 % on
framebuffer-like screenshots at zero false positives over ≥ ``size``
different-content pairs, and ≥ 200 verifications/s of 1080p JPEG on the
2-core reference machine.

Content is synthetic (``tests/integration/monitoring/corpus.py``: gradients
with shapes, noise textures, fractal photo-like noise, text slides), each
rendered at 1920×1080 and hashed as the analyser hashes a video frame. Every
content gets the framebuffer transformations (1080p / 720p, brightness
0.7 / 1.0 / 1.3, with and without a ticker band over the bottom 10 %, JPEG
q50). A false-positive pair is (shots of content A, track hash of content
B ≠ A): its distance is the smallest over all of A's shots and hash
variants, so the count is conservative. ``size`` is the number of pairs;
``isqrt(size - 1) + 2`` contents give at least that many ordered pairs.

Pairs of two text slides are reported apart (``slide_layout_*``): slides of
one layout share their pHash whatever the words, which no threshold fixes;
``chosen_threshold`` is the largest with zero false matches over all other
pairs. ``band_free_*`` tells what a track of above-the-ticker-band hashes
(not stored by the analyser yet) would give. Camera shots are perspective
warped onto a fractal background, blurred (σ 0.8–2 px), re-lit, JPEG q85,
and registered from corners off by up to 3 px.
"""

from __future__ import annotations

import math
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


def _content(index: int) -> tuple[int, int, list[tuple[int, ...]], list[int]]:
    """Track hashes (full, above the band) of content ``index`` and of its shots."""
    picture = corpus.picture(index)
    shots, above = [], []
    for kind in corpus.SHOT_KINDS:
        measured = measure_screenshot(corpus.framebuffer(picture, *kind))
        shots.append((measured.shot.phash, *measured.shot.alternates))
        above.append(measured.above_band)
    return corpus.track_hash(picture), corpus.track_hash_above_band(picture), shots, above


def _camera(index: int) -> int:
    """Distance of a camera-like photo of content ``index`` to its track hash."""
    picture = corpus.picture(index)
    data, quad = corpus.camera(picture, np.random.default_rng(index))
    shot = measure_photo(data, quad).shot
    track = corpus.track_hash(picture)
    return min(rules.hamming(h, track) for h in (shot.phash, *shot.alternates))


def _speed(count: int = 40, seconds: float = SPEED_SECONDS) -> float:
    """Verifications per second (decode + hash + verify) of 1080p JPEG q80, one core."""
    shots = [corpus.jpeg(corpus.picture(i), 80) for i in range(count)]
    track = [corpus.track_hash(corpus.picture(i)) for i in range(5)]
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        shot = measure_screenshot(shots[done % count]).shot
        rules.verify(shot, rules.Expected(track, 2.0))
        done += 1
    return done / (time.perf_counter() - started)


def _band_free(made: list[tuple[int, int, list[tuple[int, ...]], list[int]]]) -> dict[str, Any]:
    """Recall / nearest different distance if tracks also held above-band hashes."""
    tracks = np.array([above for _, above, _, _ in made], dtype=np.uint64)
    shots = np.array([hashes for *_, hashes in made], dtype=np.uint64)  # contents × kinds
    same = np.bitwise_count(shots ^ tracks[:, None])
    cross = np.bitwise_count(shots[:, :, None] ^ tracks[None, None, :]).min(axis=1).astype(np.int64)
    np.fill_diagonal(cross, 64)
    nearest = int(cross.min())
    slide = np.arange(len(made)) % len(corpus.GENERATORS) == corpus.GENERATORS.index(corpus.slide)
    other = int(np.where(slide[:, None] & slide[None, :], 64, cross).min())
    return {
        "band_free_nearest_different_distance": nearest,
        "band_free_nearest_different_distance_other_pairs": other,
        "band_free_recall_at_match_max": round(_recall(same, rules.MATCH_MAX), 4),
    }


def _detected(hashes: np.ndarray, tracks: np.ndarray) -> float:
    """Share of (shot, other content's track) pairs judged ``mismatch`` (not unknown)."""
    distance = np.bitwise_count(hashes[:, :, :, None] ^ tracks[None, None, None, :]).min(axis=2)
    other = ~np.eye(len(tracks), dtype=bool)[:, None, :]
    return float(np.mean(distance[np.broadcast_to(other, distance.shape)] >= rules.MISMATCH_MIN))


def _recall(same: np.ndarray, threshold: int) -> float:
    return float(np.mean(same <= threshold))


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
    with ProcessPoolExecutor(workers) as pool:
        made = list(pool.map(_content, range(contents), chunksize=4))
        camera = list(pool.map(_camera, range(cameras), chunksize=4))
        rates = list(pool.map(_speed, [pictures] * workers, [seconds] * workers))
    tracks = np.array([made[i][0] for i in range(contents)], dtype=np.uint64)
    kinds = len(corpus.SHOT_KINDS)
    hashes = np.array(
        [shots for *_, shots, _ in made], dtype=np.uint64
    )  # contents × kinds × variants
    same = np.bitwise_count(hashes ^ tracks[:, None, None]).min(axis=2)  # contents × kinds
    cross = np.bitwise_count(hashes[:, :, :, None] ^ tracks[None, None, None, :])
    closest = cross.min(axis=(1, 2)).astype(np.int64)  # contents × contents
    np.fill_diagonal(closest, 64)
    nearest_other = int(closest.min())
    # Text slides from one layout share their pHash (pHash sees the layout,
    # not the words): those pairs are reported apart.
    slide = np.arange(contents) % len(corpus.GENERATORS) == corpus.GENERATORS.index(corpus.slide)
    layout = slide[:, None] & slide[None, :]
    others = np.where(layout, 64, closest)
    chosen = int(others.min()) - 1
    banded = np.array([band for _, _, band in corpus.SHOT_KINDS])
    camera_d = np.array(camera)
    band_free = _band_free(made)
    return {
        **band_free,
        "pairs": contents * (contents - 1),
        "contents": contents,
        "shots": contents * kinds,
        "nearest_different_distance": nearest_other,
        "slide_layout_pairs": int(np.count_nonzero(layout)) - int(np.count_nonzero(slide)),
        "false_positives_slide_layout_pairs": int(
            np.count_nonzero((closest <= rules.MATCH_MAX) & layout)
        ),
        "nearest_different_distance_other_pairs": chosen + 1,
        "chosen_threshold": chosen,
        "recall_at_chosen": round(_recall(same, chosen), 4),
        "recall_no_ticker_at_chosen": round(_recall(same[:, ~banded], chosen), 4),
        "match_max": rules.MATCH_MAX,
        "false_positives_at_match_max": int(np.count_nonzero(closest <= rules.MATCH_MAX)),
        "recall_at_match_max": round(_recall(same, rules.MATCH_MAX), 4),
        "recall_no_ticker": round(_recall(same[:, ~banded], rules.MATCH_MAX), 4),
        "recall_ticker": round(_recall(same[:, banded], rules.MATCH_MAX), 4),
        "same_distance_p99": float(np.percentile(same, 99)),
        "mismatch_min": rules.MISMATCH_MIN,
        "false_mismatch_rate": round(float(np.mean(same >= rules.MISMATCH_MIN)), 5),
        "mismatch_detection_rate": round(_detected(hashes, tracks), 4),
        "camera_shots": len(camera),
        "camera_recall_at_match_max": round(_recall(camera_d, rules.MATCH_MAX), 4),
        "camera_distance_p99": float(np.percentile(camera_d, 99)),
        "verifications_per_s_1080p_jpeg_one_core": round(_speed(pictures, seconds), 1),
        "verifications_per_s_1080p_jpeg_all_workers": round(sum(rates), 1),
        "corpus_seconds": round(time.perf_counter() - started, 1),
        "workers": workers,
        "machine": f"{platform.machine()} {os.cpu_count()} cpu",
    }
