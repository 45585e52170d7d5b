"""Names for the H.273 colour code points FFmpeg reports (FFmpeg's own names).

PyAV gives these as integers (``AVColorPrimaries`` and friends); the values
are fixed by ITU-T H.273 / ISO/IEC 23091-2, so a table is stable.
"""

from __future__ import annotations

from lianbo.domain.media import Dynamic

PRIMARIES = {
    1: "bt709",
    4: "bt470m",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    8: "film",
    9: "bt2020",
    10: "smpte428",
    11: "smpte431",
    12: "smpte432",
    22: "ebu3213",
}
TRANSFERS = {
    1: "bt709",
    4: "gamma22",
    5: "gamma28",
    6: "smpte170m",
    7: "smpte240m",
    8: "linear",
    9: "log100",
    10: "log316",
    11: "iec61966-2-4",
    12: "bt1361e",
    13: "iec61966-2-1",
    14: "bt2020-10",
    15: "bt2020-12",
    16: "smpte2084",
    17: "smpte428",
    18: "arib-std-b67",
}
MATRICES = {
    0: "gbr",
    1: "bt709",
    4: "fcc",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    8: "ycgco",
    9: "bt2020nc",
    10: "bt2020c",
    11: "smpte2085",
    12: "chroma-derived-nc",
    13: "chroma-derived-c",
    14: "ictcp",
}
RANGES = {1: "tv", 2: "pc"}


def dynamic_of(transfer: str | None) -> Dynamic:
    """PQ and HLG by their transfer function; everything else is SDR."""
    if transfer == "smpte2084":
        return Dynamic.PQ
    if transfer == "arib-std-b67":
        return Dynamic.HLG
    return Dynamic.SDR
