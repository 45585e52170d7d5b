"""One-pass analysis of generated clips, judged by QC, checked to the frame."""

from __future__ import annotations

from pathlib import Path

import pytest

from lianbo.adapters.media.analyse import analyse
from lianbo.adapters.media.errors import MediaDecodeError
from lianbo.adapters.media.probe import probe_file
from lianbo.adapters.media.reference import ebur128_of_file
from lianbo.domain.media import Analysis, QcReport, Segment
from lianbo.domain.monitoring.tracks import read_tracks
from lianbo.domain.qc import judge
from tests.integration.conftest import Media
from tests.integration.media import factory

pytestmark = pytest.mark.integration

FRAME = 1 / factory.RATE
START, END = factory.DEFECT_START, factory.DEFECT_END


def measured(path: Path) -> tuple[Analysis, QcReport]:
    probe = probe_file(path)
    analysis = analyse(path, probe)
    return analysis, judge(probe, analysis)


def assert_segment(segment: Segment, start: float, end: float, slack: float = FRAME) -> None:
    assert segment.start_s == pytest.approx(start, abs=slack)
    assert segment.end_s == pytest.approx(end, abs=slack)


def test_black_segment_to_the_frame(media: Media) -> None:
    analysis, report = measured(media.get("black_clip"))
    (black,) = analysis.black
    assert_segment(black, START, END)
    assert analysis.frozen == ()  # noisy black moves
    (finding,) = [f for f in report.findings if f.rule == "black"]
    assert finding.start_s == black.start_s and finding.end_s == black.end_s
    assert finding.measured == "3.00 s"


def test_freeze_to_the_frame(media: Media) -> None:
    analysis, report = measured(media.get("freeze_clip"))
    (frozen,) = analysis.frozen
    assert_segment(frozen, START, END)
    assert analysis.black == ()
    assert [(f.start_s, f.end_s) for f in report.findings if f.rule == "frozen"] == [
        (frozen.start_s, frozen.end_s)
    ]


def test_freeze_over_black_is_reported_once(media: Media) -> None:
    analysis, report = measured(media.get("black_freeze_clip"))
    assert_segment(analysis.black[0], START, END)
    assert_segment(analysis.frozen[0], START, END)  # measured: both ...
    defects = [f.rule for f in report.findings if not f.rule.startswith("tier.")]
    assert defects == ["black"]  # ... reported: once


def test_silence_segment(media: Media) -> None:
    analysis, report = measured(media.get("silence_clip"))
    (silent,) = analysis.silent
    assert_segment(silent, START, END, slack=0.03)  # 10 ms windows, AAC edges
    assert [f.rule for f in report.findings if f.rule == "silence"] == ["silence"]
    assert analysis.black == analysis.frozen == ()


def test_loud_tone_fails_loudness_and_true_peak(media: Media) -> None:
    analysis, report = measured(media.get("loud_tone"))
    assert analysis.loudness_lkfs == pytest.approx(factory.LOUD_DBFS, abs=0.1)
    assert analysis.true_peak_dbtp == pytest.approx(factory.LOUD_DBFS, abs=0.1)
    assert report.status == "failed"
    rules = {f.rule: f for f in report.findings}
    assert rules["loudness"].measured == "-1.0 LKFS"
    assert rules["true_peak"].measured == "-1.0 dBTP"
    assert analysis.phash_track == b"" and analysis.decode_fps is None


def test_levelled_clip_is_within_target(media: Media) -> None:
    path = media.get("levelled_clip")
    analysis, report = measured(path)
    reference, reference_peak = ebur128_of_file(path)
    assert analysis.loudness_lkfs == pytest.approx(reference, abs=0.1)
    assert analysis.true_peak_dbtp == pytest.approx(reference_peak, abs=0.5)
    assert analysis.loudness_lkfs == pytest.approx(factory.LEVELLED_LKFS, abs=1.0)
    assert not {"loudness", "true_peak"} & {f.rule for f in report.findings}


def test_loud_tone_is_far_louder_than_the_levelled_clip(media: Media) -> None:
    loud, _ = measured(media.get("loud_tone"))
    levelled, _ = measured(media.get("levelled_clip"))
    assert loud.loudness_lkfs is not None and levelled.loudness_lkfs is not None
    assert loud.loudness_lkfs - levelled.loudness_lkfs > 18


def test_phash_track_has_one_hash_per_second(media: Media) -> None:
    analysis, _ = measured(media.get("freeze_clip"))
    tracks = read_tracks(analysis.phash_track)
    assert tracks.seconds == len(tracks.above) == len(tracks.below) == int(factory.CLIP_SECONDS)
    hashes = tracks.full
    assert hashes[1] == hashes[2] == hashes[3]  # seconds 1–3 show the held picture
    assert hashes[0] != hashes[1]


def test_uhd_hlg_clip_passes_for_every_tier(media: Media) -> None:
    analysis, report = measured(media.get("uhd_hlg_clip"))
    assert report.fit_tiers == ("outdoor", "hall", "home")
    assert read_tracks(analysis.phash_track).seconds == 1
    assert analysis.proxy == "480x270 luma 10-bit (stride 8)"
    assert analysis.decode_fps and analysis.speed_x


def test_image_gets_a_single_phash(media: Media, cjk_font: Path) -> None:
    path = media.get("text_image")
    analysis = analyse(path, probe_file(path))
    assert read_tracks(analysis.phash_track).seconds == 1
    assert analysis.black == analysis.frozen == () and analysis.loudness_lkfs is None


def test_progress_rises_to_one(media: Media) -> None:
    path = media.get("silence_clip")
    seen: list[float] = []
    analyse(path, probe_file(path), progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 10


def test_truncated_clip_fails_qc_with_a_reason(media: Media) -> None:
    path = media.get("truncated_clip")
    probe = probe_file(path)
    with pytest.raises(MediaDecodeError) as caught:
        analyse(path, probe)
    assert "truncated" in caught.value.reason
    partial = caught.value.partial
    assert 0 < read_tracks(partial.phash_track).seconds < 5  # the first half was measured
    report = judge(probe, partial, decode_error=caught.value.reason)
    assert report.status == "failed"
    assert "decode" in [f.rule for f in report.findings]


def test_corrupt_clip_does_not_crash(media: Media) -> None:
    path = media.get("corrupt_clip")
    probe = probe_file(path)
    with pytest.raises(MediaDecodeError) as caught:
        analyse(path, probe)
    assert "failed to decode" in caught.value.reason
    assert read_tracks(caught.value.partial.phash_track).seconds == 5  # the rest still measured


def test_decode_error_is_a_runtime_error_with_a_message(media: Media) -> None:
    path = media.get("truncated_clip")
    with pytest.raises(RuntimeError) as caught:  # what a job that knows no media errors catches
        analyse(path, probe_file(path))
    assert isinstance(caught.value, MediaDecodeError)
    assert caught.value.message == caught.value.reason
