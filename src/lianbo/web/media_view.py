"""Shaping an asset's facts for the console: probe rows, QC lanes, gauges.

Pure functions over plain values, so the pages stay thin and the drawing
arithmetic (where a finding sits on the timeline, where a loudness needle
points) is easy to test without a server.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lianbo.domain.media import LoudnessProfile, Probe

# QC statuses as CSS class names ("n/a" is not a valid class).
QC_SLUG = {"n/a": "na"}
# The SVG timeline of QC findings: a label gutter, then the plot.
TIMELINE_WIDTH = 720.0
TIMELINE_GUTTER = 88.0
LANE_HEIGHT = 26.0
AXIS_HEIGHT = 22.0
NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
# The ranges the loudness and true-peak scales show.
LOUDNESS_SCALE = (-36.0, -12.0)
PEAK_SCALE = (-12.0, 3.0)


def qc_slug(status: str) -> str:
    """A QC status as a CSS class suffix."""
    return QC_SLUG.get(status, status)


def human_size(size: int | None) -> str:
    """Bytes as the console shows them: 1.4 MB, 812 KB, 96 B."""
    if size is None:
        return "—"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"  # pragma: no cover - unreachable


def clock(ms: int | float | None) -> str:
    """A length in milliseconds as H:MM:SS or M:SS."""
    if ms is None:
        return "—"
    total = round(ms / 1000)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def seconds(value: float | None) -> str:
    """A position in seconds as M:SS.s (QC findings, screening hits)."""
    if value is None:
        return "—"
    minutes, rest = divmod(max(value, 0.0), 60)
    return f"{int(minutes)}:{rest:04.1f}"


def probe_rows(probe: Probe | None) -> list[tuple[str, str]]:
    """(message key, value) rows of the probe table; unknown facts left out."""
    if probe is None:
        return []
    p = probe
    size = f"{p.width} × {p.height}" if p.width and p.height else None
    colour = " / ".join(
        v or "—" for v in (p.colour_primaries, p.transfer, p.matrix, p.colour_range)
    )
    audio = ", ".join(
        part
        for part in (
            p.audio_codec,
            f"{p.audio_channels} ch" if p.audio_channels else None,
            f"{p.audio_rate / 1000:g} kHz" if p.audio_rate else None,
        )
        if part
    )
    rows: list[tuple[str, str | None]] = [
        ("probe.container", p.container),
        ("probe.video_codec", p.video_codec),
        ("probe.resolution", size),
        (
            "probe.frame_rate",
            f"{p.frame_rate:.3f}".rstrip("0").rstrip(".") + " fps" if p.frame_rate else None,
        ),
        ("probe.bit_depth", f"{p.bit_depth} bit" if p.bit_depth else None),
        ("probe.pixel_format", p.pixel_format),
        ("probe.colour", colour if colour.strip(" /—") else None),
        ("probe.hdr", _hdr(p)),
        ("probe.duration", seconds(p.duration_s) if p.duration_s else None),
        ("probe.frames", f"{p.frames:,}" if p.frames else None),
        ("probe.audio", audio or None),
    ]
    return [(key, value) for key, value in rows if value]


def _hdr(probe: Probe) -> str | None:
    if probe.dynamic is None:
        return None
    name = {"PQ": "HDR10 (PQ)", "HLG": "HLG", "SDR": "SDR"}[probe.dynamic.value]
    meta = probe.hdr10 or {}
    extra = [f"{k} {meta[k]}" for k in ("max_cll", "max_fall") if meta.get(k)]
    return " · ".join([name, *extra])


@dataclass(frozen=True, slots=True)
class Mark:
    """One finding drawn on its lane: SVG x and width, and its tooltip."""

    x: float
    width: float
    severity: str
    tip: str


@dataclass(frozen=True, slots=True)
class Lane:
    rule: str
    y: float
    marks: list[Mark]


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True, slots=True)
class FindingTimeline:
    """The QC findings over the file's duration, ready for the template."""

    width: float
    height: float
    gutter: float
    lanes: list[Lane]
    ticks: list[Tick]


def finding_timeline(
    findings: Iterable[Mapping[str, Any]], duration_s: float | None
) -> FindingTimeline | None:
    """Lanes per rule with a mark per timed finding; None when nothing is timed."""
    if not duration_s or duration_s <= 0:
        return None
    timed = [f for f in complete(findings, FINDING_KEYS) if f["start_s"] is not None]
    if not timed:
        return None
    plot = TIMELINE_WIDTH - TIMELINE_GUTTER
    rules = list(dict.fromkeys(str(f["rule"]) for f in timed))
    lanes = []
    for index, rule in enumerate(rules):
        marks = []
        for f in sorted(timed, key=lambda f: SEVERITY_ORDER.get(str(f["severity"]), 3)):
            if f["rule"] != rule:
                continue
            start = min(max(float(f["start_s"]), 0.0), duration_s)
            end = min(float(f.get("end_s") or start), duration_s)
            x = TIMELINE_GUTTER + plot * start / duration_s
            width = max(plot * (end - start) / duration_s, 3.0)
            tip = f"{f['message']} ({seconds(start)}–{seconds(end)})"
            marks.append(Mark(round(x, 1), round(width, 1), str(f["severity"]), tip))
        lanes.append(Lane(rule, index * LANE_HEIGHT, marks))
    height = len(lanes) * LANE_HEIGHT
    step = next((s for s in NICE_STEPS if duration_s / s <= 10), NICE_STEPS[-1])
    ticks = [
        Tick(round(TIMELINE_GUTTER + plot * n * step / duration_s, 1), seconds(n * step)[:-2])
        for n in range(math.floor(duration_s / step) + 1)
    ]
    return FindingTimeline(TIMELINE_WIDTH, height + AXIS_HEIGHT, TIMELINE_GUTTER, lanes, ticks)


@dataclass(frozen=True, slots=True)
class Gauge:
    """A measured value on a scale with its acceptable band (percentages)."""

    value: float
    unit: str
    needle: float
    band_from: float
    band_to: float
    ok: bool
    target: str


def _percent(value: float, scale: tuple[float, float]) -> float:
    low, high = scale
    return round(min(max((value - low) / (high - low), 0.0), 1.0) * 100, 1)


def loudness_gauges(
    analysis: Mapping[str, Any] | None, profile: LoudnessProfile
) -> list[tuple[str, Gauge]]:
    """Integrated loudness and true peak against the configured profile."""
    analysis = analysis or {}
    gauges: list[tuple[str, Gauge]] = []
    level = analysis.get("loudness_lkfs")
    if isinstance(level, int | float) and math.isfinite(level):
        low = profile.target_lkfs - profile.tolerance_lu
        high = profile.target_lkfs + profile.tolerance_lu
        gauges.append(
            (
                "qc.loudness",
                Gauge(
                    float(level),
                    "LKFS",
                    _percent(level, LOUDNESS_SCALE),
                    _percent(low, LOUDNESS_SCALE),
                    _percent(high, LOUDNESS_SCALE),
                    low <= level <= high,
                    f"{profile.target_lkfs:g} ± {profile.tolerance_lu:g} LKFS",
                ),
            )
        )
    peak = analysis.get("true_peak_dbtp")
    if isinstance(peak, int | float) and math.isfinite(peak):
        ceiling = profile.max_true_peak_dbtp
        gauges.append(
            (
                "qc.true_peak",
                Gauge(
                    float(peak),
                    "dBTP",
                    _percent(peak, PEAK_SCALE),
                    0.0,
                    _percent(ceiling, PEAK_SCALE),
                    peak <= ceiling,
                    f"≤ {ceiling:g} dBTP",
                ),
            )
        )
    return gauges


FINDING_KEYS = ("rule", "severity", "message", "start_s", "end_s", "measured")
HIT_KEYS = ("word", "source", "text", "time_s", "confidence")


def complete(items: Iterable[Any], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Report entries (stored JSON) with every key present, junk entries dropped."""
    return [{k: item.get(k) for k in keys} for item in items if isinstance(item, dict)]


def ordered_findings(findings: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Errors first, then warnings, then notes; inside each, timed ones in time order."""
    return sorted(
        complete(findings, FINDING_KEYS),
        key=lambda f: (
            SEVERITY_ORDER.get(str(f.get("severity")), 3),
            f.get("start_s") is None,
            float(f.get("start_s") or 0.0),
        ),
    )


def highlight(text: str, word: str) -> list[tuple[str, bool]]:
    """``text`` cut into (part, is_the_word) pieces, matching case-insensitively."""
    if not word:
        return [(text, False)]
    parts: list[tuple[str, bool]] = []
    lowered, needle = text.lower(), word.lower()
    at = 0
    while (found := lowered.find(needle, at)) >= 0:
        if found > at:
            parts.append((text[at:found], False))
        parts.append((text[found : found + len(word)], True))
        at = found + len(word)
    if at < len(text):
        parts.append((text[at:], False))
    return parts or [(text, False)]
