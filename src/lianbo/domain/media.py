"""What we know about a media file: its probe, QC findings, screening hits.

Plain data. The media adapter fills it in (PyAV, Pillow, rapidocr); the
rules that judge it (tier conformance, loudness profiles, merging a freeze
over black) live in ``domain/qc.py`` so they can be tested without files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class AssetKind(StrEnum):
    VIDEO = "video"
    IMAGE = "image"
    AUDIO = "audio"
    TICKER = "ticker"
    STREAM = "stream"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Dynamic(StrEnum):
    """Transfer characteristic family: SDR, HDR10 (PQ) or HLG."""

    SDR = "SDR"
    PQ = "PQ"
    HLG = "HLG"


@dataclass(frozen=True, slots=True)
class Probe:
    """Technical facts about one file, as PyAV/Pillow read them."""

    kind: AssetKind
    container: str
    duration_s: float | None = None
    video_codec: str | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    bit_depth: int | None = None
    pixel_format: str | None = None
    colour_primaries: str | None = None  # e.g. "bt709", "bt2020"
    transfer: str | None = None  # e.g. "bt709", "smpte2084", "arib-std-b67"
    matrix: str | None = None
    colour_range: str | None = None  # "tv" | "pc"
    dynamic: Dynamic | None = None
    hdr10: dict[str, object] | None = None  # mastering display, MaxCLL/MaxFALL
    audio_codec: str | None = None
    audio_channels: int | None = None
    audio_rate: int | None = None
    frames: int | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    """A time range in seconds, start inclusive, end exclusive."""

    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True, slots=True)
class Analysis:
    """Measurements from one decoding pass (before any rule judges them)."""

    black: tuple[Segment, ...] = ()
    frozen: tuple[Segment, ...] = ()
    silent: tuple[Segment, ...] = ()
    loudness_lkfs: float | None = None
    true_peak_dbtp: float | None = None
    loudness_range_lu: float | None = None
    phash_track: bytes = b""  # 8 bytes per second of content, big-endian 64-bit pHash
    decode_fps: float | None = None
    speed_x: float | None = None  # analysis time relative to real time
    proxy: str | None = None  # e.g. "480x270 gray"


@dataclass(frozen=True, slots=True)
class Finding:
    """One QC result: what rule, how bad, where, what was measured."""

    rule: str
    severity: Severity
    message: str
    start_s: float | None = None
    end_s: float | None = None
    measured: str | None = None


@dataclass(frozen=True, slots=True)
class ScreeningHit:
    """A sensitive word found in a frame, an image or text."""

    word: str
    source: str  # "frame" | "image" | "text"
    text: str  # the recognised line it was found in
    time_s: float | None = None
    confidence: float | None = None


@dataclass(frozen=True, slots=True)
class TierProfile:
    """What a tier's screens accept (GY/T 307/315 defaults in settings)."""

    name: str
    sizes: tuple[tuple[int, int], ...]
    min_frame_rate: float
    min_bit_depth: int
    primaries: tuple[str, ...]
    dynamics: tuple[Dynamic, ...]


@dataclass(frozen=True, slots=True)
class LoudnessProfile:
    """Integrated loudness target and true-peak ceiling."""

    name: str
    target_lkfs: float
    tolerance_lu: float
    max_true_peak_dbtp: float


GY_T_282 = LoudnessProfile("GY/T 282", -24.0, 2.0, -2.0)
EBU_R128 = LoudnessProfile("EBU R128", -23.0, 0.5, -1.0)

UHD_PROFILE = TierProfile(
    name="uhd",
    sizes=((3840, 2160),),
    min_frame_rate=50.0,
    min_bit_depth=10,
    primaries=("bt2020",),
    dynamics=(Dynamic.PQ, Dynamic.HLG),
)
HOME_PROFILE = TierProfile(
    name="home",
    sizes=((1920, 1080), (3840, 2160)),
    min_frame_rate=25.0,
    min_bit_depth=8,
    primaries=("bt709", "bt2020"),
    dynamics=(Dynamic.SDR, Dynamic.PQ, Dynamic.HLG),
)
DEFAULT_TIER_PROFILES: dict[str, TierProfile] = {
    "outdoor": UHD_PROFILE,
    "hall": UHD_PROFILE,
    "home": HOME_PROFILE,
}


@dataclass(frozen=True, slots=True)
class QcReport:
    """Everything QC concluded about a file."""

    status: str  # "passed" | "warnings" | "failed"
    findings: tuple[Finding, ...] = ()
    fit_tiers: tuple[str, ...] = ()  # tiers whose profile the file meets
    analysis: Analysis = field(default_factory=Analysis)
