"""HDR10 static metadata from decoded frames (SMPTE ST 2086 and CTA-861.3).

PyAV 18 exposes it only as frame side data holding FFmpeg's C structs
(``AVMasteringDisplayMetadata``, ``AVContentLightMetadata``); stream-level
side data (MP4 ``mdcv``/``clli`` boxes) is not exposed, so we read the SEI
that the decoder attaches to the first frame.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import cast

from av.sidedata.sidedata import SideData, Type
from av.video.frame import VideoFrame

# 3 primaries × (x, y) + white point (x, y) + min + max luminance, each an
# AVRational (two int32), then has_primaries and has_luminance (int32).
_MASTERING = struct.Struct("=22i")
_LIGHT = struct.Struct("=2I")


def _ratio(numerator: int, denominator: int) -> float:
    return round(numerator / denominator, 5) if denominator else 0.0


def _mastering(raw: bytes) -> dict[str, object]:
    v = _MASTERING.unpack_from(raw)
    point = [_ratio(v[i], v[i + 1]) for i in range(0, 20, 2)]
    result: dict[str, object] = {}
    if v[20]:  # has_primaries; FFmpeg stores them red, green, blue
        result |= {
            "red": point[0:2],
            "green": point[2:4],
            "blue": point[4:6],
            "white_point": point[6:8],
        }
    if v[21]:  # has_luminance, cd/m²
        result |= {"min_luminance": point[8], "max_luminance": point[9]}
    return result


def hdr10_metadata(frame: VideoFrame) -> dict[str, object] | None:
    """Mastering display and MaxCLL/MaxFALL of ``frame``, or None if absent."""
    found: dict[str, object] = {}
    # PyAV's stub types Frame.side_data as a TypedDict; it is a container of SideData.
    for side in cast(Iterable[SideData], frame.side_data):
        raw = bytes(side)
        if side.type == Type.MASTERING_DISPLAY_METADATA and len(raw) >= _MASTERING.size:
            found["mastering_display"] = _mastering(raw)
        elif side.type == Type.CONTENT_LIGHT_LEVEL and len(raw) >= _LIGHT.size:
            max_cll, max_fall = _LIGHT.unpack_from(raw)
            found |= {"max_cll": max_cll, "max_fall": max_fall}
    return found or None
