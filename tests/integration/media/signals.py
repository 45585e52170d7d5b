"""Pictures and sounds for generated test media (numpy arrays, Pillow images).

``factory.py`` arranges them in time and writes files; nothing here touches
a container.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tests.integration.media.writers import AUDIO_RATE

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
SIZE = (320, 180)


class FontMissing(RuntimeError):
    """The CJK font for burned-in text is not installed (fonts-wqy-microhei)."""


def yuv420(luma: np.ndarray) -> np.ndarray:
    """A yuv420p frame (as PyAV lays it out) from a luma plane, neutral chroma."""
    height, width = luma.shape
    return np.vstack([luma.astype(np.uint8), np.full((height // 2, width), 128, np.uint8)])


def moving(index: int, size: tuple[int, int] = SIZE) -> np.ndarray:
    """A grey gradient with a bright box that moves every frame (never frozen)."""
    width, height = size
    luma = np.tile(np.linspace(60, 180, width, dtype=np.float32), (height, 1))
    x, y = (index * 7) % (width - 40), (index * 3) % (height - 40)
    luma[y : y + 40, x : x + 40] = 235
    return yuv420(luma)


def black(index: int, noise: bool) -> np.ndarray:
    """Video black (Y=16); with noise it stays black but is never frozen."""
    width, height = SIZE
    if not noise:
        return yuv420(np.full((height, width), 16, np.uint8))
    return yuv420(np.random.default_rng(index).integers(16, 28, (height, width)))


# ---------------------------------------------------------------- sound


def tone(seconds: float, dbfs: float, freq: float = 1000.0) -> np.ndarray:
    """A stereo sine with peak ``dbfs``; stereo 1 kHz at −X dBFS measures −X LKFS."""
    t = np.arange(round(seconds * AUDIO_RATE)) / AUDIO_RATE
    wave = (10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.vstack([wave, wave])


def pinkish_noise(seconds: float, seed: int = 7) -> np.ndarray:
    """Broadband stereo noise tilted towards the lows (−3 dB/octave), unit RMS."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal((2, round(seconds * AUDIO_RATE)))
    spectrum = np.fft.rfft(white, axis=1)
    spectrum /= np.sqrt(np.maximum(np.fft.rfftfreq(white.shape[1], 1 / AUDIO_RATE), 20.0))
    pink: np.ndarray = np.fft.irfft(spectrum, n=white.shape[1], axis=1)
    rms: np.ndarray = np.sqrt(np.mean(pink**2, axis=1, keepdims=True))
    result: np.ndarray = (pink / rms).astype(np.float32)
    return result


def levelled_noise(seconds: float, lkfs: float = -24.0) -> np.ndarray:
    """Pink-ish noise scaled to ``lkfs`` as ffmpeg's ebur128 measures it.

    The scale comes from ffmpeg (not from our own meter), so a test that
    finds our meter at ``lkfs`` really checks our meter.
    """
    from lianbo.adapters.media.reference import ebur128_of_samples

    noise = pinkish_noise(seconds) * 0.1
    measured, _ = ebur128_of_samples(noise, AUDIO_RATE)
    return (noise * 10 ** ((lkfs - measured) / 20)).astype(np.float32)


# ---------------------------------------------------------------- text


def _font(size: int) -> ImageFont.FreeTypeFont:
    if not FONT.exists():
        raise FontMissing(f"CJK font {FONT} is missing (apt-get install fonts-wqy-microhei)")
    return ImageFont.truetype(str(FONT), size)


def text_picture(text: str, size: tuple[int, int] = (800, 240)) -> Image.Image:
    """Big black text on white, the way a caption or a poster shows it."""
    picture = Image.new("RGB", size, "white")
    ImageDraw.Draw(picture).text((40, size[1] // 2 - 40), text, font=_font(72), fill="black")
    return picture
