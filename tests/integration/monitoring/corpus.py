"""Synthetic pictures and screenshot transformations for monitoring tests.

Content comes from several generators (gradients with shapes, noise
textures, text slides, fractal "photo-like" noise, the factory's moving box)
seeded by an index, so thousands of different pictures cost milliseconds
each. Shots apply what framebuffer captures and cameras do to a picture.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import av
import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from lianbo.adapters.media.tracks import frame_picture, picture_hashes

HD = (1920, 1080)
_WORDS = [
    "news",
    "weather",
    "traffic",
    "alert",
    "city",
    "hall",
    "market",
    "sport",
    "music",
    "health",
    "school",
]


def _upscale(array: np.ndarray, size: tuple[int, int]) -> Image.Image:
    small = Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))
    return small.resize(size, Image.Resampling.BICUBIC).convert("RGB")


def shapes(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """A two-colour linear gradient under random rectangles and ellipses."""
    w, h = size
    angle = rng.uniform(0, 2 * np.pi)
    y, x = np.mgrid[0:h:8, 0:w:8] / max(w, h)
    ramp = (np.cos(angle) * x + np.sin(angle) * y)[..., None]
    a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    image = _upscale(a + (b - a) * (ramp - ramp.min()) / np.ptp(ramp), size)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(3, 9))):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        box = (
            x0,
            y0,
            x0 + int(rng.integers(w // 10, w // 2)),
            y0 + int(rng.integers(h // 10, h // 2)),
        )
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.rectangle if rng.random() < 0.5 else draw.ellipse)(box, fill=colour)
    return image


def texture(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """Coloured noise at a random grain."""
    grain = int(rng.integers(4, 40))
    cells = (size[1] // (grain * 4) + 2, size[0] // (grain * 4) + 2, 3)
    return _upscale(rng.uniform(0, 255, cells), size)


def fractal(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """Photo-like 1/f noise: octaves of smooth noise, tinted."""
    total = np.zeros((68, 120))
    for octave in range(5):
        cells = (2 + 2**octave, 3 + int(3.5 * 2**octave))
        layer = np.asarray(
            Image.fromarray(rng.uniform(0, 1, cells).astype(np.float32)).resize(
                (120, 68), Image.Resampling.BICUBIC
            )
        )
        total += layer / 1.6**octave
    total = (total - total.min()) / np.ptp(total)
    tint = rng.uniform(0.4, 1.0, 3)
    return _upscale(total[..., None] * tint * 255, size)


def slide(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """A text slide: a plain background and a few lines of large words."""
    background = tuple(int(c) for c in rng.integers(0, 256, 3))
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=size[1] // 10)
    ink = tuple(255 - c for c in background)
    for line in range(int(rng.integers(2, 6))):
        words = " ".join(rng.choice(_WORDS, int(rng.integers(1, 4))))
        at = (int(rng.integers(0, size[0] // 3)), size[1] // 12 + line * size[1] // 6)
        draw.text(at, words.upper(), fill=ink, font=font)
    return image


GENERATORS: tuple[Callable[[np.random.Generator, tuple[int, int]], Image.Image], ...] = (
    shapes,
    texture,
    fractal,
    slide,
)


def picture(index: int, size: tuple[int, int] = HD) -> Image.Image:
    """Content number ``index`` (generator chosen by index, seeded by it)."""
    rng = np.random.default_rng(1000 + index)
    return GENERATORS[index % len(GENERATORS)](rng, size)


def track_hashes(image: Image.Image) -> tuple[int, int, int]:
    """The (full, above-band, below-band) pHashes the analyser stores for this picture
    as a video frame."""
    rgb = av.VideoFrame.from_ndarray(np.asarray(image.convert("RGB")), format="rgb24")
    full, above, below = picture_hashes(frame_picture(rgb.reformat(format="yuv420p")))
    return int.from_bytes(full, "big"), int.from_bytes(above, "big"), int.from_bytes(below, "big")


def track_hash(image: Image.Image) -> int:
    """The full-frame pHash the analyser stores for this picture as a video frame."""
    return track_hashes(image)[0]


def jpeg(image: Image.Image, quality: int = 50) -> bytes:
    """JPEG bytes of ``image``."""
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


TICKER_TEXT = "TICKER  BREAKING NEWS  天气预报"
BOTTOM, TOP = "bottom", "top"


def ticker(
    image: Image.Image, text: str = TICKER_TEXT, at: str = BOTTOM, scrolled: int = 0
) -> Image.Image:
    """``image`` with a ticker band over its bottom (or top) 10 %.

    ``scrolled`` moves the text left by that many pixels, as a running
    ticker does between two captures.
    """
    out = image.copy()
    w, h = out.size
    top = h - h // 10 if at == BOTTOM else 0
    draw = ImageDraw.Draw(out)
    draw.rectangle((0, top, w, top + h // 10), fill=(20, 30, 120))
    font = ImageFont.load_default(h // 18)
    draw.text((w // 20 - scrolled, top + h // 10 - h // 12), text, fill=(255, 255, 255), font=font)
    return out


def framebuffer(
    image: Image.Image, width: int, brightness: float, band: bool | str, quality: int = 50
) -> bytes:
    """A framebuffer-like capture: scaled, brightness changed, ticker, JPEG q50.

    ``band``: False / "" for none, True or ``BOTTOM`` for a bottom ticker,
    ``TOP`` for one at the top.
    """
    shot = image.resize((width, width * 9 // 16), Image.Resampling.BILINEAR)
    shot = ImageEnhance.Brightness(shot).enhance(brightness)
    if band:
        shot = ticker(shot, at=TOP if band == TOP else BOTTOM)
    return jpeg(shot, quality)


SHOT_KINDS: tuple[tuple[int, float, str], ...] = tuple(
    (width, brightness, band)
    for width in (1920, 1280)
    for brightness in (0.7, 1.0, 1.3)
    for band in ("", BOTTOM, TOP)
)


def camera(image: Image.Image, rng: np.random.Generator) -> tuple[bytes, list[tuple[float, float]]]:
    """A camera-like photo of ``image`` on a screen: warped, blurred, on a background.

    Returns the JPEG and the screen quad (TL, TR, BR, BL) as a detector
    would give it (corners off by up to 3 px).
    """
    w, h = 1600, 1200
    photo = fractal(rng, (w, h))
    cx, cy, half_w = (
        w / 2 + rng.uniform(-80, 80),
        h / 2 + rng.uniform(-60, 60),
        rng.uniform(450, 700),
    )
    half_h = half_w * 9 / 16
    jitter = rng.uniform(-0.12, 0.12, (4, 2)) * (half_w, half_h)
    corners = np.array([(-1, -1), (1, -1), (1, 1), (-1, 1)]) * (half_w, half_h) + (cx, cy) + jitter
    screen = image.resize((960, 540), Image.Resampling.BILINEAR)
    source = np.array([(0, 0), (960, 0), (960, 540), (0, 540)], dtype=np.float32)
    matrix = _homography(corners.astype(np.float32), source)
    warped = screen.transform(
        (w, h), Image.Transform.PERSPECTIVE, matrix, Image.Resampling.BILINEAR
    )
    mask = Image.new("L", (960, 540), 255).transform((w, h), Image.Transform.PERSPECTIVE, matrix)
    photo.paste(warped, (0, 0), mask)
    photo = photo.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.8, 2.0))))
    photo = ImageEnhance.Brightness(photo).enhance(float(rng.uniform(0.8, 1.15)))
    quad = [(float(x), float(y)) for x, y in corners + rng.uniform(-3, 3, (4, 2))]
    return jpeg(photo, 85), quad


def _homography(target: np.ndarray, source: np.ndarray) -> tuple[float, ...]:
    """Pillow's PERSPECTIVE coefficients mapping output (photo) to input (screen) points."""
    import cv2

    matrix = cv2.getPerspectiveTransform(target, source)
    return tuple(float(v) for v in (matrix / matrix[2, 2]).flatten()[:8])
