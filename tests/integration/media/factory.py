"""Generate real test media with PyAV, Pillow and numpy (no media is committed).

Each public function writes one file into ``directory`` and returns its path.
Clips are 320×180 at 25 fps and a few seconds long, except the UHD ones, so a
test session spends seconds making them. The times tests check (black from
1 s to 4 s, and so on) are the constants below.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import av
import numpy as np
from PIL import Image

from tests.integration.media.signals import (
    black,
    levelled_noise,
    moving,
    text_picture,
    tone,
    yuv420,
)
from tests.integration.media.writers import (
    AUDIO_RATE,
    BT2020_HLG,
    BT2020_PQ,
    VideoSpec,
    write_looped_video,
    write_png_bomb,
    write_video,
    write_wav,
)

RATE = 25
DEFECT_START = 1.0  # black / freeze / silence run from here ...
DEFECT_END = 4.0  # ... to here, inside a clip of CLIP_SECONDS
CLIP_SECONDS = 5.0
TEXT_FROM = 2.0  # the text video shows its text from this time on
SENSITIVE = "赌博"  # the listed word burned into the picture tests
LEVELLED_LKFS = -24.0
LOUD_DBFS = -1.0  # loud, and its peak is over the −2 dBTP ceiling


def _timeline(middle: Iterable[np.ndarray] | None = None) -> Iterator[np.ndarray]:
    """Moving content for CLIP_SECONDS; ``middle`` replaces the defect window."""
    replacement = iter(middle) if middle is not None else None
    for index in range(round(CLIP_SECONDS * RATE)):
        in_defect = DEFECT_START * RATE <= index < DEFECT_END * RATE
        yield next(replacement) if replacement is not None and in_defect else moving(index)


def _defect_frames() -> int:
    return round((DEFECT_END - DEFECT_START) * RATE)


def _with_silence() -> np.ndarray:
    audio = tone(CLIP_SECONDS, -20.0)
    audio[:, round(DEFECT_START * AUDIO_RATE) : round(DEFECT_END * AUDIO_RATE)] = 0.0
    return audio


# ---------------------------------------------------------------- clips


def black_clip(directory: Path) -> Path:
    """Content 0–1 s, noisy black 1–4 s (black, not frozen), content 4–5 s."""
    frames = (black(i, noise=True) for i in range(_defect_frames()))
    return write_video(directory / "black.mp4", _timeline(frames))


def freeze_clip(directory: Path) -> Path:
    """Content 0–1 s, one picture held 1–4 s, content 4–5 s."""
    held = moving(round(DEFECT_START * RATE))
    return write_video(directory / "freeze.mp4", _timeline([held] * _defect_frames()))


def black_freeze_clip(directory: Path) -> Path:
    """Content, digital black 1–4 s (black AND frozen: QC must report it once)."""
    frames = [black(0, noise=False)] * _defect_frames()
    return write_video(directory / "black_freeze.mp4", _timeline(frames))


def silence_clip(directory: Path) -> Path:
    """Moving picture; tone, digital silence 1–4 s, tone."""
    return write_video(directory / "silence.mp4", _timeline(), audio=_with_silence())


def levelled_clip(directory: Path) -> Path:
    """Moving picture with pink-ish noise at −24 LKFS (AAC)."""
    audio = levelled_noise(CLIP_SECONDS)
    return write_video(directory / "levelled.mp4", _timeline(), audio=audio)


def loud_tone(directory: Path) -> Path:
    """Audio only: 1 kHz stereo sine at −1 dBFS (≈ −1 LKFS, −1 dBTP) as WAV."""
    return write_wav(directory / "loud.wav", tone(CLIP_SECONDS, LOUD_DBFS))


def sdr_clip(directory: Path, seconds: float = 2.0) -> Path:
    """1920×1080 25p H.264 8-bit BT.709 SDR with −24 LKFS audio."""
    spec = VideoSpec(width=1920, height=1080)
    frames = (moving(i, (1920, 1080)) for i in range(round(seconds * RATE)))
    return write_video(directory / "sdr.mp4", frames, spec, audio=levelled_noise(seconds))


def uhd_frames(count: int, rate: int = 50) -> list[av.VideoFrame]:
    """UHD 10-bit frames from ffmpeg's testsrc2 (moving, detailed, cheap to make)."""
    graph = av.filter.Graph()
    nodes = [
        graph.add("testsrc2", f"size=960x540:rate={rate}:duration={count / rate}"),
        graph.add("scale", "3840:2160"),
        graph.add("format", "yuv420p10le"),
        graph.add("buffersink"),
    ]
    graph.link_nodes(*nodes)
    graph.configure()
    frames: list[av.VideoFrame] = []
    while len(frames) < count:
        try:
            frames.append(graph.vpull())
        except (av.error.EOFError, av.error.BlockingIOError):
            break
    return frames


def uhd_hlg_clip(directory: Path, seconds: int = 1, gop: int = 5, name: str = "uhd") -> Path:
    """3840×2160 50p HEVC Main 10, BT.2020 / HLG (arib-std-b67), with AAC audio.

    One ``gop``-frame closed GOP is encoded and repeated (see
    ``write_looped_video``): libx265 manages only a few UHD frames a second.
    """
    spec = VideoSpec(
        width=3840,
        height=2160,
        rate=50,
        codec="libx265",
        pix_fmt="yuv420p10le",
        colour=BT2020_HLG,
        options={
            "preset": "ultrafast",
            "x265-params": f"log-level=error:keyint={gop}:min-keyint={gop}:open-gop=0:"
            "bframes=0:colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc",
        },
    )
    loops = round(seconds * 50 / gop)
    audio = levelled_noise(seconds)
    return write_looped_video(directory / f"{name}.mp4", uhd_frames(gop), loops, spec, audio)


def pq_clip(directory: Path) -> Path:
    """A small HEVC 10-bit PQ clip carrying HDR10 mastering-display and MaxCLL SEI."""
    spec = VideoSpec(
        codec="libx265",
        pix_fmt="yuv420p10le",
        colour=BT2020_PQ,
        options={
            "preset": "ultrafast",
            "x265-params": "log-level=error:hdr10=1:colorprim=bt2020:transfer=smpte2084:"
            "colormatrix=bt2020nc:master-display=G(13250,34500)B(7500,3000)R(34000,16000)"
            "WP(15635,16450)L(10000000,1):max-cll=1000,400",
        },
    )
    frames = (_ten_bit(moving(i)) for i in range(10))
    return write_video(directory / "pq.mp4", frames, spec)


def _ten_bit(frame: np.ndarray) -> np.ndarray:
    return frame.astype(np.uint16) << 2


# ---------------------------------------------------------------- text


def text_image(directory: Path, text: str = f"今日{SENSITIVE}新闻") -> Path:
    """A PNG with burned-in Chinese text containing the listed word."""
    path = directory / "text.png"
    text_picture(text).save(path)
    return path


def text_video(directory: Path, text: str = f"请勿{SENSITIVE}") -> Path:
    """4 s, 640×360: moving picture, then the text burned in from TEXT_FROM on."""
    plain = np.asarray(text_picture(text, (640, 360)).convert("L"))
    spec = VideoSpec(width=640, height=360)
    frames = (
        yuv420(plain) if i >= TEXT_FROM * RATE else moving(i, (640, 360)) for i in range(4 * RATE)
    )
    return write_video(directory / "text.mp4", frames, spec)


# ---------------------------------------------------------------- broken


def truncated_clip(directory: Path) -> Path:
    """A valid clip (index first) cut in half: the header reads, the tail is gone."""
    whole = write_video(directory / "whole.mp4", _timeline(), audio=tone(CLIP_SECONDS, -20))
    data = whole.read_bytes()
    path = directory / "truncated.mp4"
    path.write_bytes(data[: len(data) // 2])
    return path


def zero_byte(directory: Path) -> Path:
    path = directory / "empty.mp4"
    path.write_bytes(b"")
    return path


def not_media(directory: Path) -> Path:
    """A PDF-looking header and random bytes, named like a video."""
    path = directory / "document.mp4"
    path.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + os.urandom(64_000))
    return path


def decompression_bomb(directory: Path) -> Path:
    """A 30000×30000 1-bit PNG: ~100 kB on disk, 900 Mpixel if decoded."""
    return write_png_bomb(directory / "bomb.png")


def large_image(directory: Path) -> Path:
    """A 10000×10000 PNG: over Pillow's warning limit, under its error limit."""
    return write_png_bomb(directory / "large.png", side=10_000)


def broken_png(directory: Path) -> Path:
    """A PNG whose header reads but whose pixel data is cut off."""
    whole = directory / "noise.png"
    noise = np.random.default_rng(5).integers(0, 256, (200, 300, 3), dtype=np.uint8)
    Image.fromarray(noise).save(whole)
    data = whole.read_bytes()
    path = directory / "broken.png"
    path.write_bytes(data[: len(data) // 2])
    return path


def corrupt_clip(directory: Path) -> Path:
    """A valid clip with 4 kB of its middle overwritten by random bytes."""
    whole = write_video(directory / "intact.mp4", _timeline(), audio=tone(CLIP_SECONDS, -20))
    data = bytearray(whole.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4096] = (
        np.random.default_rng(3).integers(0, 256, 4096, np.uint8).tobytes()
    )
    path = directory / "corrupt.mp4"
    path.write_bytes(bytes(data))
    return path
