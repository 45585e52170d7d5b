"""Per-stream measurements fed frame by frame during the one decoding pass.

The pHash track holds, per second, three hashes of one small gray picture
(``picture_hashes``): the full frame, the frame without its bottom
``BAND`` and without its top ``BAND``, where tickers run. Screenshots are
measured with the same function (``screenshots.py``), so the two sides
cannot drift apart.
"""

from __future__ import annotations

import numpy as np
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from PIL import Image

from lianbo.adapters.media.loudness import LoudnessMeter
from lianbo.adapters.media.phash import phashes
from lianbo.adapters.media.proxy import LumaProxy, difference, is_black
from lianbo.adapters.media.segments import RunTracker
from lianbo.domain import qc
from lianbo.domain.media import Segment
from lianbo.domain.monitoring.tracks import pack_tracks

_SILENCE_AMPLITUDE = 10 ** (qc.SILENCE_DBFS / 20)
_HASH_EARLY_S = 1e-3  # a frame stamped 0.999 s starts second 1 (rounded timestamps)
WORK_WIDTH = 256  # the gray picture every pHash is taken of (as hashes.phash_frame)
BAND = 0.12  # fraction of the height a ticker may cover (10 % plus margin)


def band_rows(height: int) -> int:
    """Rows of a ``height``-row picture that a ticker band may cover."""
    return max(1, round(height * BAND))


def band_regions(height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices of the full picture, the picture above its bottom band, below its top band."""
    band = band_rows(height)
    return np.arange(height), np.arange(height - band), np.arange(band, height)


def picture_hashes(gray: Image.Image) -> tuple[bytes, bytes, bytes]:
    """pHashes of ``gray``: the full picture, without its bottom band, without its top band.

    ``gray`` is a small gray copy (``work_picture``, ``frame_picture``; a
    screenshot's reduced decode); a band-free crop's hash stays close when a
    ticker covers that band, which moves the full hash by 12–32 bits. The
    three share one horizontal pass (``phash.phashes``, imagehash's pHash).
    """
    found = phashes(np.asarray(gray.convert("L")), band_regions(gray.height))
    full, above, below = (value.to_bytes(8, "big") for value in found)
    return full, above, below


def work_picture(image: Image.Image) -> Image.Image:
    """The ``WORK_WIDTH`` wide gray copy of a picture (images, screenshots)."""
    gray = image.convert("L")
    height = max(1, round(gray.height * WORK_WIDTH / max(gray.width, 1)))
    return gray.resize((WORK_WIDTH, height), Image.Resampling.BILINEAR)


def frame_picture(frame: VideoFrame) -> Image.Image:
    """The ``WORK_WIDTH`` wide gray copy of a video frame (swscale: cheap even at UHD)."""
    height = max(1, round(frame.height * WORK_WIDTH / max(frame.width, 1)))
    small = frame.reformat(width=WORK_WIDTH, height=height, format="gray")
    return Image.fromarray(np.ascontiguousarray(small.to_ndarray()))


class HashTrack:
    """The three pHash planes, one entry per second, in their stored form."""

    def __init__(self) -> None:
        self.planes = (bytearray(), bytearray(), bytearray())

    def __len__(self) -> int:
        """Seconds hashed so far."""
        return len(self.planes[0]) // 8

    def add(self, gray: Image.Image) -> None:
        """Append one second's hashes of ``gray``."""
        for plane, hashed in zip(self.planes, picture_hashes(gray), strict=True):
            plane += hashed

    def stored(self) -> bytes:
        """The track as stored with the asset (``verification.read_tracks`` reads it)."""
        return pack_tracks(*(bytes(plane) for plane in self.planes)) if len(self) else b""


class VideoTrack:
    """Black and frozen runs plus one pHash per second, from luma proxies."""

    def __init__(self, stream: VideoStream, full_range: bool, origin_s: float):
        context = stream.codec_context
        self.proxy = LumaProxy(context.width, context.height, context.pix_fmt or "", full_range)
        rate = stream.average_rate or stream.guessed_rate
        self.frame_s = float(1 / rate) if rate else 0.04
        self.origin_s = origin_s
        self.black = RunTracker(qc.BLACK_MIN_S)
        self.frozen = RunTracker(qc.FREEZE_MIN_S)
        self.hashes = HashTrack()
        self.frames = 0
        self.end_s = 0.0
        self._previous: tuple[np.ndarray, float] | None = None

    def add(self, frame: VideoFrame) -> None:
        stamp = frame.time
        now = stamp - self.origin_s if stamp is not None else self.frames * self.frame_s
        luma = self.proxy(frame)
        lv = self.proxy.levels
        (self.black.on if is_black(luma, lv) else self.black.off)(now)
        if self._previous is not None:
            previous, previous_s = self._previous
            if difference(luma, previous, lv) <= qc.FREEZE_DIFFERENCE:
                self.frozen.on(previous_s)  # the held picture began with that frame
            else:
                self.frozen.off(now)
        if now >= len(self.hashes) - _HASH_EARLY_S:
            picture = frame_picture(frame)
            while now >= len(self.hashes) - _HASH_EARLY_S:
                self.hashes.add(picture)  # repeated when a frame spans seconds
        self._previous = (luma, now)
        self.frames += 1
        self.end_s = max(self.end_s, now + self.frame_s)

    def finish(self) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
        """(black, frozen) segments, open runs closed at the end of the picture."""
        return self.black.finish(self.end_s), self.frozen.finish(self.end_s)


class SilenceTracker:
    """Runs where every channel stays below SILENCE_DBFS, in 10 ms windows."""

    def __init__(self, rate: int, start_s: float) -> None:
        self.window = max(1, rate // 100)
        self.rate = rate
        self.runs = RunTracker(qc.SILENCE_MIN_S)
        self._pending = np.zeros(0)
        self._seen = 0  # windows consumed
        self.start_s = start_s

    def add(self, samples: np.ndarray) -> None:
        loudest = np.concatenate([self._pending, np.abs(samples).max(axis=0)])
        whole = loudest.size // self.window * self.window
        quiet = loudest[:whole].reshape(-1, self.window).max(axis=1) < _SILENCE_AMPLITUDE
        self._pending = loudest[whole:]
        if quiet.size == 0:
            return
        # Walk only the windows where the state changes, not every window.
        edges = np.flatnonzero(np.diff(quiet.astype(np.int8), prepend=np.int8(-1)))
        for index in edges:
            at = self.start_s + (self._seen + int(index)) * self.window / self.rate
            (self.runs.on if quiet[index] else self.runs.off)(at)
        self._seen += quiet.size

    def finish(self) -> tuple[Segment, ...]:
        end = self.start_s + (self._seen * self.window + self._pending.size) / self.rate
        return self.runs.finish(end)


class AudioTrack:
    """Loudness (BS.1770) and silence of one audio stream."""

    def __init__(self, stream: AudioStream, start_s: float) -> None:
        context = stream.codec_context
        names = [c.name for c in context.layout.channels] or ["FC"] * context.channels
        self.rate = context.sample_rate
        self.resampler = AudioResampler(format="fltp", layout=context.layout, rate=self.rate)
        self.meter = LoudnessMeter(self.rate, names)
        self.silence = SilenceTracker(self.rate, start_s)
        self.samples = 0
        self.start_s = start_s

    def add(self, frame: AudioFrame | None) -> None:
        """Feed a decoded frame; None flushes the resampler."""
        for planar in self.resampler.resample(frame):
            samples = planar.to_ndarray().astype(np.float64)
            self.meter.add(samples)
            self.silence.add(samples)
            self.samples += samples.shape[1]

    @property
    def end_s(self) -> float:
        return self.start_s + self.samples / self.rate if self.rate else self.start_s
