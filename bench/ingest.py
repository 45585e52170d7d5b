"""Benchmark ``ingest``: probe + QC speed on UHD HEVC 10-bit 50p, loudness accuracy.

Targets (issue "Content"): probe + analyse + judge at ≥ 1× real time on
UHD HEVC Main 10 50p on the 2-core reference machine; integrated loudness
within ±0.1 LU of FFmpeg's ``ebur128`` on the same file; pHash at ≥ 50
frames/s. ``size`` is the clip length in seconds (10 for the full run).

The clip is generated on the fly (``tests/integration/media/factory.py``):
one closed GOP of ffmpeg's ``testsrc2`` pattern, encoded by libx265 and
repeated, plus pink-ish noise at −24 LKFS as AAC. Decode-only speed is
measured on the same file in the same run, so the analysis overhead is the
ratio of the two whatever else the machine is doing.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import av
from tests.integration.media.factory import uhd_frames, uhd_hlg_clip

from bench.upload import measure_upload
from lianbo.adapters.media.analyse import analyse
from lianbo.adapters.media.hashes import phash_frame
from lianbo.adapters.media.probe import main_audio, main_video, probe_file
from lianbo.adapters.media.reference import ebur128_of_file
from lianbo.domain.monitoring.tracks import read_tracks
from lianbo.domain.qc import judge

DEFAULT_SIZE = 10  # what `lianbo bench` uses without --size

DEFAULT_SECONDS = 10
MAX_SECONDS = 600  # larger sizes are the CLI's default for other benchmarks
GOP = 25  # 0.5 s closed GOP, repeated
PHASH_FRAMES = 100


def _seconds(size: int) -> int:
    return min(MAX_SECONDS, max(1, size))


def _clip(seconds: int, data_dir: Path | None, gop: int) -> tuple[Path, float]:
    """The benchmark clip (cached in ``data_dir`` when given) and its making time."""
    directory = data_dir / "bench-ingest" if data_dir else Path(tempfile.mkdtemp("-ingest"))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"uhd-{seconds}s-gop{gop}.mp4"
    if path.exists():
        return path, 0.0
    started = time.perf_counter()
    made = uhd_hlg_clip(directory, seconds=seconds, gop=gop, name=f"{path.stem}.partial")
    made.rename(path)
    return path, time.perf_counter() - started


def decode_only(path: Path) -> tuple[int, float]:
    """(video frames, seconds) to demux and decode video and audio, nothing else."""
    started = time.perf_counter()
    frames = 0
    with av.open(str(path)) as container:
        video, audio = main_video(container), main_audio(container)
        assert video is not None
        video.codec_context.thread_type = "AUTO"
        streams = [s for s in (video, audio) if s is not None]
        for packet in container.demux(*streams):
            for frame in packet.decode():
                frames += isinstance(frame, av.VideoFrame)
    return frames, time.perf_counter() - started


def qc(path: Path) -> dict[str, Any]:
    """Probe + analyse + judge, timed, with the figures the targets need."""
    started = time.perf_counter()
    probe = probe_file(path)
    probed = time.perf_counter()
    analysis = analyse(path, probe)
    report = judge(probe, analysis)
    done = time.perf_counter()
    frames = probe.frames or 0
    content = probe.duration_s or 0.0
    return {
        "probe_ms": round((probed - started) * 1000, 1),
        "qc_s": round(done - started, 3),
        "qc_fps": round(frames / (done - started), 1),
        "qc_speed_x": round(content / (done - started), 3),
        "analyse_decode_fps": analysis.decode_fps,
        "qc_status": report.status,
        "proxy": analysis.proxy,
        "phash_seconds": read_tracks(analysis.phash_track).seconds,
        "loudness_ours_lkfs": analysis.loudness_lkfs,
        "true_peak_ours_dbtp": analysis.true_peak_dbtp,
    }


def phash_rate(count: int = PHASH_FRAMES) -> float:
    """pHash frames/s on decoded UHD 10-bit frames (the swscale shrink included)."""
    frames = uhd_frames(10)
    started = time.perf_counter()
    for index in range(count):
        phash_frame(frames[index % len(frames)])
    return round(count / (time.perf_counter() - started), 1)


def run(size: int, data_dir: Path | None, **options: Any) -> dict[str, Any]:
    """Run the benchmark on a ``size``-second clip; a flat dict of figures.

    Option ``gop`` (frames, default 25) sets the encoded GOP that is repeated;
    a small one makes the clip quicker to generate (for smoke tests).
    """
    seconds = _seconds(size)
    clip, made_s = _clip(seconds, data_dir, int(options.get("gop", GOP)))
    frames, decode_s = decode_only(clip)
    figures: dict[str, Any] = {
        "benchmark": "ingest",
        "machine": f"{platform.machine()} {os.cpu_count()} cpu",
        "clip": "3840x2160 50p HEVC Main10 HLG + AAC stereo",
        "clip_s": seconds,
        "clip_mb": round(clip.stat().st_size / 1e6, 2),
        "generate_s": round(made_s, 1),
        "decode_only_fps": round(frames / decode_s, 1),
        "decode_only_speed_x": round(seconds / decode_s, 3),
    }
    figures |= qc(clip)
    figures["qc_vs_decode"] = round(figures["qc_fps"] / figures["decode_only_fps"], 3)
    reference, reference_peak = ebur128_of_file(clip)
    figures["loudness_ffmpeg_lkfs"] = reference
    figures["loudness_diff_lu"] = round(abs(figures["loudness_ours_lkfs"] - reference), 3)
    figures["true_peak_ffmpeg_dbtp"] = round(reference_peak, 3)
    figures["phash_fps"] = phash_rate()
    upload_dir = Path(tempfile.mkdtemp(prefix="lianbo-upload-", dir=data_dir))
    upload_bytes = 1 << 30 if seconds >= DEFAULT_SECONDS else 64 << 20
    figures |= measure_upload(upload_dir, upload_bytes)
    figures["target_upload_met"] = figures["upload_mb_s"] >= 200
    figures["target_realtime_met"] = figures["qc_speed_x"] >= 1.0
    figures["target_loudness_met"] = figures["loudness_diff_lu"] <= 0.1
    figures["target_phash_met"] = figures["phash_fps"] >= 50
    return figures
