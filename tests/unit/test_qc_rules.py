"""QC rules on hand-made probes and analyses (no media files)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lianbo.domain.media import (
    EBU_R128,
    GY_T_282,
    HOME_PROFILE,
    Analysis,
    AssetKind,
    Dynamic,
    Finding,
    Probe,
    Segment,
    Severity,
)
from lianbo.domain.qc import freezes_outside_black, judge, status_of, subtract

UHD_HLG = Probe(
    kind=AssetKind.VIDEO,
    container="mp4",
    duration_s=10.0,
    video_codec="hevc",
    width=3840,
    height=2160,
    frame_rate=50.0,
    bit_depth=10,
    pixel_format="yuv420p10le",
    colour_primaries="bt2020",
    transfer="arib-std-b67",
    matrix="bt2020nc",
    colour_range="tv",
    dynamic=Dynamic.HLG,
    audio_codec="aac",
    audio_channels=2,
    audio_rate=48_000,
)
SDR_1080 = Probe(
    kind=AssetKind.VIDEO,
    container="mp4",
    duration_s=10.0,
    width=1920,
    height=1080,
    frame_rate=25.0,
    bit_depth=8,
    colour_primaries="bt709",
    transfer="bt709",
    dynamic=Dynamic.SDR,
)
CLEAN = Analysis(loudness_lkfs=-24.0, true_peak_dbtp=-6.0)


def rules(findings: tuple[Finding, ...]) -> list[str]:
    return [f.rule for f in findings]


def test_uhd_hlg_fits_every_tier_and_passes() -> None:
    report = judge(UHD_HLG, CLEAN)
    assert report.status == "passed"
    assert report.fit_tiers == ("outdoor", "hall", "home")
    assert report.findings == ()


def test_sdr_1080p_fits_home_only_with_a_warning_per_unmet_requirement() -> None:
    report = judge(SDR_1080, CLEAN)
    assert report.fit_tiers == ("home",)
    assert report.status == "warnings"
    for tier in ("outdoor", "hall"):
        mine = [f for f in report.findings if f.message.startswith(f"{tier}:")]
        assert [f.rule for f in mine] == [
            "tier.size",
            "tier.frame_rate",
            "tier.bit_depth",
            "tier.primaries",
            "tier.dynamic",
        ]
        assert all(f.severity is Severity.WARNING for f in mine)
    assert "frame rate 25, needs ≥ 50" in report.findings[1].message


def test_unknown_values_do_not_meet_a_requirement() -> None:
    probe = Probe(kind=AssetKind.VIDEO, container="mp4", width=1920, height=1080)
    report = judge(probe, CLEAN, {"home": HOME_PROFILE})
    assert report.fit_tiers == ()
    assert "frame rate unknown" in report.findings[0].message


def test_frame_rate_rounding_does_not_fail_a_tier() -> None:
    probe = replace(UHD_HLG, frame_rate=49.995)
    assert judge(probe, CLEAN).fit_tiers == ("outdoor", "hall", "home")


def test_an_image_is_checked_on_size_only() -> None:
    uhd = Probe(kind=AssetKind.IMAGE, container="png", width=3840, height=2160, bit_depth=8)
    small = Probe(kind=AssetKind.IMAGE, container="png", width=800, height=600, bit_depth=8)
    assert judge(uhd, Analysis()).fit_tiers == ("outdoor", "hall", "home")
    report = judge(small, Analysis())
    assert report.fit_tiers == ()
    assert rules(report.findings) == ["tier.size"] * 3


def test_audio_fits_every_tier() -> None:
    probe = Probe(kind=AssetKind.AUDIO, container="wav", duration_s=5.0, audio_channels=2)
    report = judge(probe, CLEAN)
    assert report.fit_tiers == ("outdoor", "hall", "home")
    assert report.status == "passed"


def test_black_segment_is_a_warning_with_its_time_range() -> None:
    report = judge(UHD_HLG, Analysis(black=(Segment(1.0, 4.0),)))
    (finding,) = report.findings
    assert (finding.rule, finding.severity) == ("black", Severity.WARNING)
    assert (finding.start_s, finding.end_s, finding.measured) == (1.0, 4.0, "3.00 s")
    assert "1.00–4.00 s" in finding.message
    assert report.status == "warnings"


def test_black_over_the_whole_file_is_an_error() -> None:
    report = judge(UHD_HLG, Analysis(black=(Segment(0.0, 9.98),)))
    assert report.findings[0].severity is Severity.ERROR
    assert report.status == "failed"


def test_freeze_over_black_is_reported_once_as_black() -> None:
    analysis = Analysis(black=(Segment(1.0, 4.0),), frozen=(Segment(1.0, 4.0),))
    report = judge(UHD_HLG, analysis)
    assert rules(report.findings) == ["black"]
    assert report.analysis.frozen == (Segment(1.0, 4.0),)  # the measurement is kept


def test_freeze_starting_a_frame_before_black_is_still_the_black() -> None:
    analysis = Analysis(black=(Segment(1.02, 4.0),), frozen=(Segment(1.0, 4.0),))
    assert rules(judge(UHD_HLG, analysis).findings) == ["black"]


def test_freeze_outlasting_black_keeps_its_own_part_when_long_enough() -> None:
    black = [Segment(1.0, 4.0)]
    assert freezes_outside_black([Segment(1.0, 7.0)], black, 0.02) == [Segment(4.02, 7.0)]
    assert freezes_outside_black([Segment(1.0, 5.0)], black, 0.02) == []


def test_freeze_and_silence_findings() -> None:
    analysis = Analysis(frozen=(Segment(2.0, 5.5),), silent=(Segment(6.0, 8.5),))
    report = judge(UHD_HLG, analysis)
    assert [(f.rule, f.start_s, f.end_s) for f in report.findings] == [
        ("frozen", 2.0, 5.5),
        ("silence", 6.0, 8.5),
    ]


def test_subtract_splits_around_a_cut() -> None:
    assert subtract(Segment(0.0, 10.0), [Segment(4.0, 6.0)], 0.0) == [
        Segment(0.0, 4.0),
        Segment(6.0, 10.0),
    ]
    assert subtract(Segment(4.0, 6.0), [Segment(0.0, 10.0)], 0.0) == []


@pytest.mark.parametrize(
    ("lkfs", "failed"),
    [(-24.0, False), (-26.0, False), (-22.0, False), (-26.1, True), (-3.0, True)],
)
def test_loudness_outside_target_and_tolerance_is_an_error(lkfs: float, failed: bool) -> None:
    report = judge(UHD_HLG, Analysis(loudness_lkfs=lkfs, true_peak_dbtp=-10.0))
    assert ("loudness" in rules(report.findings)) is failed
    assert (report.status == "failed") is failed


def test_loudness_profile_is_chosen_by_the_caller() -> None:
    analysis = Analysis(loudness_lkfs=-24.0, true_peak_dbtp=-1.5)
    assert judge(UHD_HLG, analysis, loudness_profile=GY_T_282).status == "failed"
    report = judge(UHD_HLG, analysis, loudness_profile=EBU_R128)
    assert rules(report.findings) == ["loudness"]  # −24 is off −23 ± 0.5; −1.5 dBTP is fine
    assert report.findings[0].measured == "-24.0 LKFS"


def test_true_peak_above_the_ceiling_is_an_error() -> None:
    report = judge(UHD_HLG, Analysis(loudness_lkfs=-24.0, true_peak_dbtp=-1.0))
    (finding,) = report.findings
    assert (finding.rule, finding.severity, finding.measured) == (
        "true_peak",
        Severity.ERROR,
        "-1.0 dBTP",
    )


def test_unmeasurable_loudness_is_not_a_loudness_finding() -> None:
    assert judge(UHD_HLG, Analysis()).status == "passed"


def test_decode_error_fails_the_report() -> None:
    report = judge(UHD_HLG, CLEAN, decode_error="content ends at 2.37 s of 5.00 s")
    assert rules(report.findings) == ["decode"]
    assert "2.37 s" in report.findings[0].message
    assert report.status == "failed"


def test_custom_tier_profiles_are_used_in_order() -> None:
    report = judge(SDR_1080, CLEAN, {"living-room": HOME_PROFILE})
    assert report.fit_tiers == ("living-room",)
    assert report.status == "passed"


def test_status_ignores_info_findings() -> None:
    assert status_of([Finding("note", Severity.INFO, "fyi")]) == "passed"
