"""QC rules: judge a probe and its analysis against tier and loudness profiles.

Pure: standard library only, so every rule is tested with hand-made values.
The media adapter measures (``adapters/media/analyse.py``) with the
thresholds defined here, and ``judge`` turns measurements into findings:

- tier conformance: one warning per unmet requirement per tier; tiers with
  none are ``fit_tiers``. Video is checked on size, frame rate, bit depth,
  primaries and dynamic; an image on size only; audio fits every tier.
- black, frozen, silent segments: a warning each with its time range, an
  error when it covers the whole file. A freeze inside black is one defect,
  reported once, as black.
- integrated loudness outside target ± tolerance, true peak above the
  ceiling: errors. A decode failure is an error.

Status: ``failed`` with any error, ``warnings`` with any warning, else
``passed``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from lianbo.domain.media import (
    DEFAULT_TIER_PROFILES,
    GY_T_282,
    Analysis,
    AssetKind,
    Finding,
    LoudnessProfile,
    Probe,
    QcReport,
    Segment,
    Severity,
    TierProfile,
)

BLACK_MIN_S = 2.0  # hold-off: shorter black is a cut, not a defect
FREEZE_MIN_S = 2.0
SILENCE_MIN_S = 2.0
SILENCE_DBFS = -60.0
BLACK_PIXEL_FRACTION = 0.10  # a pixel within 10 % of the range above black is black
BLACK_PICTURE_FRACTION = 0.98  # a picture with 98 % black pixels is black
FREEZE_DIFFERENCE = 0.003  # no block's mean luma change (fraction of range) above: unchanged
_FRAME_TOLERANCE_S = 0.04  # one frame at 25 fps, when the rate is unknown


def judge(
    probe: Probe,
    analysis: Analysis,
    tier_profiles: Mapping[str, TierProfile] = DEFAULT_TIER_PROFILES,
    loudness_profile: LoudnessProfile = GY_T_282,
    *,
    decode_error: str | None = None,
) -> QcReport:
    """The QC report for one file: findings, fitting tiers and the overall status.

    ``decode_error`` is the reason a decode stopped early (see
    ``MediaDecodeError`` in the media adapter); it makes the report fail.
    """
    findings: list[Finding] = []
    fit: list[str] = []
    for tier, profile in tier_profiles.items():
        shortfalls = list(tier_findings(probe, tier, profile))
        findings += shortfalls
        if not shortfalls:
            fit.append(tier)
    findings += defect_findings(probe, analysis)
    findings += loudness_findings(analysis, loudness_profile)
    if decode_error:
        findings.append(Finding("decode", Severity.ERROR, f"decoding failed: {decode_error}"))
    return QcReport(
        status=status_of(findings),
        findings=tuple(findings),
        fit_tiers=tuple(fit),
        analysis=analysis,
    )


def status_of(findings: Iterable[Finding]) -> str:
    severities = {f.severity for f in findings}
    if Severity.ERROR in severities:
        return "failed"
    return "warnings" if Severity.WARNING in severities else "passed"


# ---------------------------------------------------------------- tiers


def _size(probe: Probe, profile: TierProfile) -> str | None:
    if (probe.width, probe.height) in profile.sizes:
        return None
    wanted = " or ".join(f"{w}×{h}" for w, h in profile.sizes)
    return f"size {probe.width}×{probe.height}, needs {wanted}"


def _picture(probe: Probe, profile: TierProfile) -> dict[str, str | None]:
    rate, depth = probe.frame_rate, probe.bit_depth
    return {
        "frame_rate": None
        if rate is not None and rate >= profile.min_frame_rate - 0.01
        else f"frame rate {_num(rate)}, needs ≥ {_num(profile.min_frame_rate)}",
        "bit_depth": None
        if depth is not None and depth >= profile.min_bit_depth
        else f"bit depth {_num(depth)}, needs ≥ {profile.min_bit_depth}",
        "primaries": None
        if probe.colour_primaries in profile.primaries
        else f"primaries {probe.colour_primaries or 'unknown'}, "
        f"needs {' or '.join(profile.primaries)}",
        "dynamic": None
        if probe.dynamic in profile.dynamics
        else f"dynamic range {probe.dynamic or 'unknown'}, "
        f"needs {' or '.join(d.value for d in profile.dynamics)}",
    }


def tier_findings(probe: Probe, tier: str, profile: TierProfile) -> Iterable[Finding]:
    """A warning per requirement of ``profile`` that ``probe`` does not meet."""
    if probe.kind not in (AssetKind.VIDEO, AssetKind.IMAGE):
        return
    unmet = {"size": _size(probe, profile)}
    if probe.kind is AssetKind.VIDEO:
        unmet |= _picture(probe, profile)
    for requirement, message in unmet.items():
        if message is not None:
            yield Finding(f"tier.{requirement}", Severity.WARNING, f"{tier}: {message}")


def _num(value: float | None) -> str:
    return "unknown" if value is None else f"{value:g}"


# ---------------------------------------------------------------- defects


def subtract(segment: Segment, cuts: Iterable[Segment], slack_s: float) -> list[Segment]:
    """Parts of ``segment`` outside every cut (each cut widened by ``slack_s``)."""
    parts = [segment]
    for cut in cuts:
        low, high = cut.start_s - slack_s, cut.end_s + slack_s
        parts = [
            piece
            for part in parts
            for piece in (
                Segment(part.start_s, min(part.end_s, low)),
                Segment(max(part.start_s, high), part.end_s),
            )
            if piece.duration_s > 0
        ]
    return parts


def freezes_outside_black(
    frozen: Iterable[Segment], black: Iterable[Segment], frame_s: float
) -> list[Segment]:
    """Frozen segments minus black ones; leftovers shorter than FREEZE_MIN_S go.

    Black pictures are identical, so black is always frozen too; a freeze
    that only continues a black segment is the same defect, reported once.
    """
    black = list(black)
    kept: list[Segment] = []
    for segment in frozen:
        kept += [p for p in subtract(segment, black, frame_s) if p.duration_s >= FREEZE_MIN_S]
    return kept


def _segment_finding(
    rule: str, segment: Segment, duration_s: float | None, frame_s: float
) -> Finding:
    whole = duration_s is not None and segment.duration_s >= duration_s - 2 * frame_s
    return Finding(
        rule,
        Severity.ERROR if whole else Severity.WARNING,
        f"{rule} {segment.start_s:.2f}–{segment.end_s:.2f} s"
        + (" (the whole file)" if whole else ""),
        start_s=segment.start_s,
        end_s=segment.end_s,
        measured=f"{segment.duration_s:.2f} s",
    )


def defect_findings(probe: Probe, analysis: Analysis) -> list[Finding]:
    """Black, frozen (outside black) and silent segments as findings."""
    frame_s = 1 / probe.frame_rate if probe.frame_rate else _FRAME_TOLERANCE_S
    frozen = freezes_outside_black(analysis.frozen, analysis.black, frame_s)
    return [
        _segment_finding(rule, segment, probe.duration_s, frame_s)
        for rule, segments in (("black", analysis.black), ("frozen", frozen))
        for segment in segments
    ] + [_segment_finding("silence", s, probe.duration_s, 0.01) for s in analysis.silent]


# ---------------------------------------------------------------- loudness


def loudness_findings(analysis: Analysis, profile: LoudnessProfile) -> list[Finding]:
    """Integrated loudness off target and true peak over the ceiling (errors)."""
    findings: list[Finding] = []
    level = analysis.loudness_lkfs
    if level is not None and abs(level - profile.target_lkfs) > profile.tolerance_lu:
        findings.append(
            Finding(
                "loudness",
                Severity.ERROR,
                f"integrated loudness {level:.1f} LKFS, {profile.name} wants "
                f"{profile.target_lkfs:g} ± {profile.tolerance_lu:g}",
                measured=f"{level:.1f} LKFS",
            )
        )
    peak = analysis.true_peak_dbtp
    if peak is not None and peak > profile.max_true_peak_dbtp:
        findings.append(
            Finding(
                "true_peak",
                Severity.ERROR,
                f"true peak {peak:.1f} dBTP above the {profile.name} ceiling "
                f"{profile.max_true_peak_dbtp:g} dBTP",
                measured=f"{peak:.1f} dBTP",
            )
        )
    return findings
