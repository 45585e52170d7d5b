"""A small luma proxy of each decoded frame, taken without a colour conversion.

At UHD 50p the decoder leaves about 3 ms per frame for everything else, so
the proxy is gathered straight from the decoder's own luma plane (every 8th
pixel of every 8th row for UHD) into a small array: no swscale, no colour
conversion. Formats whose luma is not plane 0 in native order fall back to
swscale (``reformat``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from av.video.format import VideoFormat
from av.video.frame import VideoFrame

from lianbo.domain import qc

PROXY_WIDTH = 480
# Planar YUV / gray with LSB-aligned samples in plane 0 (not p010, nv12 is fine).
_DIRECT = re.compile(r"^(yuvj?(420|422|444|440|411|410)p|gray|nv12|nv21)(9|10|12|14|16)?(le)?$")


@dataclass(frozen=True, slots=True)
class Levels:
    """Code values of black and white for a frame's bit depth and range."""

    black: float
    white: float

    @property
    def span(self) -> float:
        return self.white - self.black


def levels(bits: int, full_range: bool) -> Levels:
    """Nominal black and white: 16–235 scaled to ``bits`` (tv) or 0–max (pc)."""
    if full_range:
        return Levels(0.0, float((1 << bits) - 1))
    scale = 1 << (bits - 8)
    return Levels(16.0 * scale, 235.0 * scale)


class LumaProxy:
    """Turns frames of one stream into small luma arrays plus their levels."""

    def __init__(self, width: int, height: int, pix_fmt: str, full_range: bool):
        self.stride = max(1, width // PROXY_WIDTH)
        self.direct = bool(_DIRECT.match(pix_fmt))
        self.bits = VideoFormat(pix_fmt).components[0].bits if self.direct else 8
        self.levels = levels(self.bits, full_range or pix_fmt.startswith("yuvj"))
        self.size = (-(-width // self.stride), -(-height // self.stride))

    def describe(self) -> str:
        how = f"stride {self.stride}" if self.direct else "swscale"
        return f"{self.size[0]}x{self.size[1]} luma {self.bits}-bit ({how})"

    def __call__(self, frame: VideoFrame) -> np.ndarray:
        """The proxy of ``frame``: a small contiguous int32 luma array.

        One gather out of the decoder's plane; every later step works on this
        small copy, never on the strided view (whose rows are far apart).
        """
        if not self.direct:
            small = frame.reformat(width=self.size[0], height=self.size[1], format="gray")
            return self._view(small, np.dtype(np.uint8), 1).astype(np.int32)
        dtype = np.dtype("<u2") if self.bits > 8 else np.dtype(np.uint8)
        return self._view(frame, dtype, self.stride).astype(np.int32)

    @staticmethod
    def _view(frame: VideoFrame, dtype: np.dtype, stride: int) -> np.ndarray:
        plane = frame.planes[0]
        rows: np.ndarray = np.frombuffer(memoryview(plane), dtype).reshape(plane.height, -1)
        return rows[::stride, : plane.width : stride]


def is_black(luma: np.ndarray, lv: Levels) -> bool:
    """FFmpeg ``blackdetect`` defaults: ≥ 98 % of pixels within 10 % above black."""
    limit = lv.black + qc.BLACK_PIXEL_FRACTION * lv.span
    return int(np.count_nonzero(luma <= limit)) >= qc.BLACK_PICTURE_FRACTION * luma.size


def difference(luma: np.ndarray, previous: np.ndarray, lv: Levels, block: int = 16) -> float:
    """The largest mean absolute change of any block of two proxies, as a fraction of the range.

    Per block rather than per picture (as FFmpeg ``freezedetect`` does): a
    small moving object in a still scene changes the picture mean by less
    than coding noise, but changes its own block a lot.
    """
    delta = np.abs(luma - previous)
    rows, cols = delta.shape[0] // block, delta.shape[1] // block
    if rows == 0 or cols == 0:
        return float(delta.mean()) / lv.span
    tiles = delta[: rows * block, : cols * block].reshape(rows, block, cols, block)
    return float(tiles.sum(axis=(1, 3)).max()) / (block * block) / lv.span
