"""Analyse a file in one decoding pass: black, frozen, silence, loudness, pHash.

Video and audio packets are demuxed together and each decoded once (video
with FFmpeg frame/slice threads); every video frame becomes a strided luma
proxy (``proxy.py``), audio goes through a BS.1770 meter (``loudness.py``).

Damaged media does not crash the pass. A packet that fails to decode is
counted and skipped; a read error ends the pass early; content that ends
well before the probed duration counts as truncated. In each case
``analyse`` raises ``MediaDecodeError`` whose ``partial`` holds the
``Analysis`` of everything that did decode, and whose ``reason`` the caller
passes to ``qc.judge(..., decode_error=reason)`` to mark QC ``failed``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import av
from av.audio.frame import AudioFrame
from av.container import InputContainer
from av.packet import Packet
from av.stream import Stream
from av.video.frame import VideoFrame

from lianbo.adapters.media.detect import check_file, load_image, opened_container
from lianbo.adapters.media.errors import MediaDecodeError
from lianbo.adapters.media.probe import main_audio, main_video
from lianbo.adapters.media.tracks import AudioTrack, HashTrack, VideoTrack, work_picture
from lianbo.domain.media import Analysis, AssetKind, Probe

Progress = Callable[[float], None]
# Content this much shorter than the probed duration is truncated, not padding.
_SHORT_BY_S = 0.5
_SHORT_BY_FRACTION = 0.02


def analyse(path: Path, probe: Probe, *, progress: Progress | None = None) -> Analysis:
    """Measure ``path`` (already probed as ``probe``); see the module docstring.

    ``progress`` receives the fraction of content done (0..1), about every 1 %.
    Raises ``MediaDecodeError`` (with the partial analysis) for damaged media.
    """
    if probe.kind is AssetKind.IMAGE:
        track = HashTrack()
        track.add(work_picture(load_image(path)))
        if progress:
            progress(1.0)
        return Analysis(phash_track=track.stored(), proxy="image")
    check_file(path)
    started = time.perf_counter()
    with opened_container(path) as container:
        decoding = _Pass(container, probe, progress)
        problem = decoding.run()
    analysis = decoding.result(time.perf_counter() - started)
    if problem is not None:
        raise MediaDecodeError(problem, analysis)
    if progress:
        progress(1.0)
    return analysis


class _Reporter:
    """Calls ``progress`` when the done fraction moved by at least 1 %."""

    def __init__(self, callback: Progress | None, total_s: float | None) -> None:
        self.callback, self.total_s, self.last = callback, total_s, 0.0

    def update(self, position_s: float) -> None:
        if self.callback is None or not self.total_s:
            return
        fraction = min(1.0, max(0.0, position_s / self.total_s))
        if fraction - self.last >= 0.01:
            self.last = fraction
            self.callback(fraction)


class _Pass:
    """State of one decoding pass over a container."""

    def __init__(self, container: InputContainer, probe: Probe, progress: Progress | None):
        self.container, self.probe = container, probe
        origin = container.start_time / av.time_base if container.start_time else 0.0
        video, audio = main_video(container), main_audio(container)
        self.video: VideoTrack | None = None
        self.audio: AudioTrack | None = None
        if video is not None:
            video.codec_context.thread_type = "AUTO"
            self.video = VideoTrack(video, probe.colour_range == "pc", origin)
        if audio is not None:
            self.audio = AudioTrack(audio, _offset_s(audio, origin))
        self.streams = [s for s in (video, audio) if s is not None]
        self.reporter = _Reporter(progress, probe.duration_s)
        self.failures = 0
        self.first_failure = ""

    def position(self) -> float:
        return max(self.video.end_s if self.video else 0.0, self.audio.end_s if self.audio else 0.0)

    def run(self) -> str | None:
        """Decode everything; the reason decoding was incomplete, or None."""
        try:
            for packet in self.container.demux(*self.streams):
                self._decode(packet)
        except av.error.FFmpegError as exc:
            return f"reading stopped at {self.position():.2f} s ({exc.strerror})"
        finally:
            if self.audio is not None:
                self.audio.add(None)
        if self.failures:
            return f"{self.failures} packet(s) failed to decode (first: {self.first_failure})"
        expected, done = self.probe.duration_s, self.position()
        if expected and done < expected - max(_SHORT_BY_S, _SHORT_BY_FRACTION * expected):
            return f"content ends at {done:.2f} s of {expected:.2f} s (truncated)"
        return None

    def _decode(self, packet: Packet[Stream]) -> None:
        try:
            frames = packet.decode()
        except av.error.FFmpegError as exc:
            self.failures += 1
            self.first_failure = self.first_failure or str(exc.strerror)
            return
        for frame in frames:
            if isinstance(frame, VideoFrame) and self.video is not None:
                self.video.add(frame)
            elif isinstance(frame, AudioFrame) and self.audio is not None:
                self.audio.add(frame)
        self.reporter.update(self.position())

    def result(self, wall_s: float) -> Analysis:
        black, frozen = self.video.finish() if self.video else ((), ())
        meter = self.audio.meter if self.audio else None
        return Analysis(
            black=black,
            frozen=frozen,
            silent=self.audio.silence.finish() if self.audio else (),
            loudness_lkfs=_rounded(meter.integrated() if meter else None),
            true_peak_dbtp=_rounded(meter.true_peak_dbtp() if meter else None),
            loudness_range_lu=_rounded(meter.loudness_range() if meter else None),
            phash_track=self.video.hashes.stored() if self.video else b"",
            decode_fps=round(self.video.frames / wall_s, 2) if self.video and wall_s else None,
            speed_x=round(self.position() / wall_s, 3) if wall_s else None,
            proxy=self.video.proxy.describe() if self.video else None,
        )


def _offset_s(stream: Stream, origin_s: float) -> float:
    """When ``stream`` starts, relative to the container's start."""
    if stream.start_time is None or stream.time_base is None:
        return 0.0
    return max(0.0, float(stream.start_time * stream.time_base) - origin_s)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
