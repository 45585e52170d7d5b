"""Perceptual hashes (imagehash pHash, 64 bit) of pictures and video frames.

Monitoring compares screenshots from screens against an asset's pHash
track; both sides go through ``imagehash.phash`` (32×32 DCT), so only the
step before it differs: frames are first shrunk to a 256 px wide gray
picture by swscale, which is cheap even at UHD.
"""

from __future__ import annotations

import imagehash
import numpy as np
from av.video.frame import VideoFrame
from PIL import Image

from lianbo.domain.monitoring.tracks import read_tracks

HASH_BYTES = 8
_WORK_WIDTH = 256


def phash_bytes(picture: Image.Image) -> bytes:
    """The 64-bit pHash of ``picture`` as 8 bytes, big-endian (row-major bits)."""
    return bytes.fromhex(str(imagehash.phash(picture)))


def phash_frame(frame: VideoFrame) -> bytes:
    """pHash of a decoded video frame, via a small gray copy."""
    height = max(1, round(frame.height * _WORK_WIDTH / max(frame.width, 1)))
    small = frame.reformat(width=_WORK_WIDTH, height=height, format="gray")
    return phash_bytes(Image.fromarray(np.ascontiguousarray(small.to_ndarray())))


def unpack_track(track: bytes) -> list[int]:
    """The full-frame pHash track as one 64-bit integer per second (any stored version)."""
    return list(read_tracks(track).full)
