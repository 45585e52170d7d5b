"""Measure a screenshot for monitoring: pHash, black; camera shots registered.

Screenshots are hashed the way ``tracks.py`` hashes frames: imagehash's
pHash (32×32 LANCZOS, DCT) of the full picture and of the picture above /
below a ticker band, all from one small gray picture (``phash.phashes``,
which shrinks them in one shared pass). That picture is the decoder's own:
JPEG is decoded in gray with Pillow's ``draft()`` at the deepest DCT
scaling (1/2…1/8) that keeps it at least ``DRAFT_WIDTH`` px wide (a 1080p
shot decodes at 240×135); other formats are box-reduced to the same size.
A 1080p JPEG costs about 2.5 ms of one core, most of it the JPEG's
entropy decoding, which no scaling avoids.

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
from lianbo.adapters.media.phash import phashes
from lianbo.adapters.media.tracks import BAND as BAND  # re-exported: the band size
from lianbo.adapters.media.tracks import band_regions, picture_hashes
from lianbo.domain.monitoring.quad import inside
from lianbo.domain.monitoring.verification import Shot

MAX_BYTES = 16 * 1024 * 1024
MAX_PIXELS = 50_000_000  # a 48 MP camera photo; UHD is 8.3 MP
FORMATS = ("JPEG", "PNG", "WEBP")
_BLACK_LEVEL = 0.10 * 255  # as qc / FFmpeg blackdetect: 10 % above black ...
_BLACK_FRACTION = 0.98  # ... for 98 % of the pixels
_REGISTERED = (640, 360)  # a registered camera shot, before hashing
DRAFT_WIDTH = 128  # the hashed picture is at least this wide: 4 px per column of 32
MIN_SIZE = (64, 36)  # smaller is no screenshot of a screen
_SCALES = (8, 4, 2)  # JPEG's DCT scalings, deepest first

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


def _scale(width: int, least: int) -> int:
    """The deepest reduction (8, 4, 2 or 1) that keeps ``width`` at least ``least``."""
    return next((scale for scale in _SCALES if width // scale >= least), 1)


def _gray(image: Image.Image, least: int) -> np.ndarray:
    """A gray copy at least ``least`` px wide, decoded reduced where the format allows.

    JPEG decodes at reduced size itself (``draft``); other formats are
    decoded whole and box-reduced by the same factor, so both give the same
    size for the same picture.
    """
    scale = _scale(image.width, least)
    try:
        image.draft("L", (image.width // scale, image.height // scale))
        image.load()
        gray = image.convert("L")
    except (OSError, SyntaxError, ValueError) as exc:
        raise refuse(f"broken image ({exc})") from exc
    factor = _scale(gray.width, least)
    if factor > 1:
        gray = gray.reduce(factor)
    return np.asarray(gray)


def _measure(luma: np.ndarray, width: int, height: int) -> Measured:
    """Black, mean luma and every pHash of one small gray picture."""
    black = int(np.count_nonzero(luma <= _BLACK_LEVEL)) >= _BLACK_FRACTION * luma.size
    full, above, below = band_regions(luma.shape[0])
    # The picture with its bottom band replaced by a mirror of the rows above:
    # a ticker hides the content there, and a mirror keeps the low frequencies
    # pHash looks at close to the hidden original (for tracks stored before
    # band crops, which hold the full frame only).
    filled = np.concatenate([above, above[::-1][: len(full) - len(above)]])
    phash, up, down, mirrored = phashes(luma, (full, above, below, filled))
    shot = Shot(phash, black, (mirrored,), up, down)
    return Measured(shot, float(luma.mean()), width, height, up)


def phash_above_band(gray: Image.Image) -> bytes:
    """pHash of ``gray`` (a small gray picture) without its bottom ``BAND``."""
    return picture_hashes(gray)[1]


def _check_size(width: int, height: int) -> None:
    if width < MIN_SIZE[0] or height < MIN_SIZE[1]:
        raise refuse(f"image too small to verify ({width}×{height} pixels)")


def measure_screenshot(data: bytes) -> Measured:
    """pHash and black of a framebuffer screenshot (JPEG/PNG/WEBP bytes)."""
    with open_screenshot(data) as image:
        size = image.size
        _check_size(*size)
        gray = _gray(image, DRAFT_WIDTH)
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
        _check_size(*size)
        if not inside(quad, *size):
            raise refuse(f"the screen quad lies outside this {size[0]}×{size[1]} photo")
        gray = _gray(image, 1280)
    scale = gray.shape[1] / size[0], gray.shape[0] / size[1]
    scaled = [(x * scale[0], y * scale[1]) for x, y in quad]
    return _measure(register(gray, scaled), *size)
