"""Measure a screenshot for monitoring: pHash, black; camera shots registered.

Screenshots are hashed the way ``tracks.py`` hashes frames: a gray copy
``WORK_WIDTH`` (256) px wide, then ``tracks.picture_hashes`` (imagehash,
32×32 DCT) of the full picture and of the picture above / below a ticker
band. JPEG is decoded with Pillow's ``draft()`` at a reduced scale (the
decoder's own 1/2…1/8 DCT scaling), so a 1080p JPEG costs a 480×270 decode
— that is what makes ≥ 200 verifications/s possible on two cores.

Camera photos of a screen are registered first: the caller gives the four
corners of the screen in the photo (top-left, top-right, bottom-right,
bottom-left) and OpenCV warps that quad onto a 16:9 rectangle.

Untrusted bytes: at most ``MAX_BYTES``, formats JPEG/PNG/WEBP only,
at most ``MAX_PIXELS`` (checked from the header before any pixel is
decoded); everything else is refused with ``InvalidInput``.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from lianbo.adapters.media.detect import refuse
from lianbo.adapters.media.hashes import phash_bytes
from lianbo.adapters.media.tracks import BAND as BAND  # re-exported: the band size
from lianbo.adapters.media.tracks import WORK_WIDTH, band_rows, picture_hashes, work_picture
from lianbo.domain.monitoring.verification import Shot

MAX_BYTES = 16 * 1024 * 1024
MAX_PIXELS = 50_000_000  # a 48 MP camera photo; UHD is 8.3 MP
FORMATS = ("JPEG", "PNG", "WEBP")
_BLACK_LEVEL = 0.10 * 255  # as qc / FFmpeg blackdetect: 10 % above black ...
_BLACK_FRACTION = 0.98  # ... for 98 % of the pixels
_REGISTERED = (640, 360)  # a registered camera shot, before hashing

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Measured:
    """A screenshot's ``Shot`` plus luma statistics for evidence.

    ``above_band`` is the pHash of the picture above the bottom ticker band
    (also ``shot.above``; kept for callers written before ``Shot`` had it).
    """

    shot: Shot
    mean_luma: float
    width: int
    height: int
    above_band: int


def open_screenshot(data: bytes) -> Image.Image:
    """Open untrusted bytes as an image (header only), or raise ``InvalidInput``."""
    if not data:
        raise refuse("empty file")
    if len(data) > MAX_BYTES:
        raise refuse(f"screenshot larger than {MAX_BYTES} bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError as exc:
        raise refuse("not an image") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise refuse("image too large to decode safely") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise refuse(f"broken image ({exc})") from exc
    if image.width * image.height > MAX_PIXELS:
        raise refuse(f"image too large to decode safely ({image.width}×{image.height} pixels)")
    return image


def _gray(image: Image.Image, width: int) -> Image.Image:
    """A gray copy about ``width`` wide, decoded at reduced size where possible."""
    try:
        image.draft("L", (width, max(1, image.height * width // max(image.width, 1))))
        image.load()
        return image.convert("L")
    except (OSError, SyntaxError, ValueError) as exc:
        raise refuse(f"broken image ({exc})") from exc


def _measure(gray: Image.Image, width: int, height: int) -> Measured:
    small = work_picture(gray)
    luma = np.asarray(small)
    black = int(np.count_nonzero(luma <= _BLACK_LEVEL)) >= _BLACK_FRACTION * luma.size
    phash, above, below = (int.from_bytes(h, "big") for h in picture_hashes(small))
    filled = int.from_bytes(phash_bytes(Image.fromarray(_fill_band(luma))), "big")
    shot = Shot(phash, black, (filled,), above, below)
    return Measured(shot, float(luma.mean()), width, height, above)


def phash_above_band(gray: Image.Image) -> bytes:
    """pHash of ``gray`` (a ``WORK_WIDTH`` wide gray copy) without its bottom ``BAND``."""
    return picture_hashes(gray)[1]


def _fill_band(luma: np.ndarray) -> np.ndarray:
    """``luma`` with its bottom ``BAND`` replaced by a mirror of the rows above.

    A ticker band hides the content there; a mirror keeps the low
    frequencies pHash looks at close to the hidden original (for tracks
    stored before band crops, which hold the full frame only).
    """
    band = band_rows(luma.shape[0])
    out = luma.copy()
    out[-band:] = luma[-2 * band : -band][::-1]
    return out


def measure_screenshot(data: bytes) -> Measured:
    """pHash and black of a framebuffer screenshot (JPEG/PNG/WEBP bytes)."""
    with open_screenshot(data) as image:
        size = image.size
        gray = _gray(image, WORK_WIDTH)
    return _measure(gray, *size)


def register(photo: np.ndarray, quad: Sequence[Point]) -> np.ndarray:
    """Warp the screen quad (TL, TR, BR, BL) of a gray ``photo`` onto a rectangle."""
    if len(quad) != 4:
        raise refuse("a screen quad has four corners")
    width, height = _REGISTERED
    source = np.array(quad, dtype=np.float32)
    target = np.array([(0, 0), (width, 0), (width, height), (0, height)], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(source, target)
    warped: np.ndarray = cv2.warpPerspective(photo, matrix, (width, height), flags=cv2.INTER_AREA)
    return warped


def measure_photo(data: bytes, quad: Sequence[Point]) -> Measured:
    """pHash and black of a camera photo of a screen whose corners are ``quad``.

    The photo is decoded at about 1280 px wide (draft) and the quad scaled
    with it, so a 12 MP photo costs little more than a screenshot.
    """
    with open_screenshot(data) as image:
        size = image.size
        gray = _gray(image, 1280)
    scale = gray.width / size[0], gray.height / size[1]
    scaled = [(x * scale[0], y * scale[1]) for x, y in quad]
    screen = register(np.asarray(gray), scaled)
    return _measure(Image.fromarray(screen), *size)
