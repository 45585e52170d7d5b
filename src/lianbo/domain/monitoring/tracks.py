"""An asset's pHash tracks and their stored form (pure).

One 64-bit pHash per second of content for the full frame and, since
version 2, for the picture without its bottom band and without its top
band (where tickers run); ``verification`` compares screenshots with them.
"""

from __future__ import annotations

from dataclasses import dataclass

HASH_BYTES = 8
# Stored track, version 2: the full-frame, above-band and below-band planes
# (8 bytes per second each) then this 4-byte trailer; its length is 4 mod 8,
# a version 1 track (full frame only, 8 bytes per second) is 0 mod 8.
_TRAILER = b"PHB\x03"


@dataclass(frozen=True, slots=True)
class Tracks:
    """An asset's pHash tracks, one hash per second of content.

    ``above`` hashes the picture without its bottom band, ``below`` without
    its top band (where tickers run); both are empty for tracks stored
    before they existed, and then only the full frame is compared.
    """

    full: tuple[int, ...]
    above: tuple[int, ...] = ()
    below: tuple[int, ...] = ()

    @property
    def seconds(self) -> int:
        """Seconds of content the tracks cover."""
        return len(self.full)


def _unpack(plane: bytes) -> tuple[int, ...]:
    return tuple(
        int.from_bytes(plane[i : i + HASH_BYTES], "big")
        for i in range(0, len(plane) - HASH_BYTES + 1, HASH_BYTES)
    )


def pack_tracks(full: bytes, above: bytes, below: bytes) -> bytes:
    """The stored form of three equally long planes of 8-byte hashes."""
    if not len(full) == len(above) == len(below) or len(full) % HASH_BYTES:
        raise ValueError("pHash planes must be equally long, 8 bytes per hash")
    return full + above + below + _TRAILER


def read_tracks(blob: bytes) -> Tracks:
    """The tracks in a stored ``blob``: version 2 (three planes) or 1 (full frame only).

    A damaged version 2 blob (planes of unequal length) reads as empty,
    which verification answers with ``unknown``, never with a verdict.
    """
    if len(blob) % HASH_BYTES != len(_TRAILER) or not blob.endswith(_TRAILER):
        return Tracks(_unpack(blob))
    body = blob[: -len(_TRAILER)]
    planes = _TRAILER[-1]
    if len(body) % (planes * HASH_BYTES):
        return Tracks(())
    size = len(body) // planes
    full, above, below = (body[i * size : (i + 1) * size] for i in range(planes))
    return Tracks(_unpack(full), _unpack(above), _unpack(below))
