"""pHashes of several row regions of one gray picture, sharing the work.

The hash is ``imagehash.phash``'s: the picture shrunk to 32×32 with
Pillow's LANCZOS, a 2-D DCT-II, the 8×8 lowest frequencies against their
median, row-major bits, first bit highest. Monitoring hashes several
pictures cut from one (the full frame, the frame above / below a ticker
band, the frame with its band mirrored), all of one width; Pillow shrinks
a picture horizontal pass first, row by row, so that pass is done once
for the whole picture and only the small vertical pass per region. For a
picture at least as wide as tall the hash is imagehash's bit for bit (the
unit tests hold it to that); Pillow may run a much taller picture's
vertical pass first, and the two then differ by a rounding step in a few
pixels, a bit of the hash at most.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.fftpack
from PIL import Image

SIDE = 32  # imagehash: hash_size 8 × highfreq_factor 4
BITS = 8  # the 8×8 lowest frequencies make the 64-bit hash
_LANCZOS = Image.Resampling.LANCZOS


def shrink(gray: np.ndarray, regions: Sequence[np.ndarray]) -> np.ndarray:
    """The 32×32 LANCZOS reduction of each region of a 2-D uint8 picture.

    A region is the picture made of those row indices in that order: a crop
    is a range, a mirrored band a reversed one.
    """
    across = np.asarray(Image.fromarray(gray).resize((SIDE, gray.shape[0]), _LANCZOS))
    return np.stack(
        [
            np.asarray(Image.fromarray(across[rows]).resize((SIDE, SIDE), _LANCZOS))
            for rows in regions
        ]
    )


def hashes(small: np.ndarray) -> list[int]:
    """64-bit pHashes of a stack of 32×32 pictures (``shrink``'s result)."""
    dct = scipy.fftpack.dct(scipy.fftpack.dct(small.astype(np.float64), axis=1), axis=2)
    found = []
    for low in dct[:, :BITS, :BITS]:
        bits = np.packbits((low > np.median(low)).ravel())
        found.append(int.from_bytes(bits.tobytes(), "big"))
    return found


def phashes(gray: np.ndarray, regions: Sequence[np.ndarray]) -> list[int]:
    """The pHash of each region (row indices) of a 2-D uint8 ``gray`` picture."""
    return hashes(shrink(np.ascontiguousarray(gray, dtype=np.uint8), regions))
