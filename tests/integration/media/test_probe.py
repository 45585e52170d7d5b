"""Probe: what a file is, by content, and its technical facts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from lianbo.adapters.media.probe import probe_file
from lianbo.domain.errors import InvalidInput
from lianbo.domain.media import AssetKind, Dynamic
from tests.integration.conftest import Media

pytestmark = pytest.mark.integration


def test_uhd_hlg_clip(media: Media) -> None:
    probe = probe_file(media.get("uhd_hlg_clip"))
    assert probe.kind is AssetKind.VIDEO
    assert (probe.video_codec, probe.width, probe.height) == ("hevc", 3840, 2160)
    assert probe.frame_rate == 50.0
    assert (probe.bit_depth, probe.pixel_format) == (10, "yuv420p10le")
    assert (probe.colour_primaries, probe.transfer, probe.matrix) == (
        "bt2020",
        "arib-std-b67",
        "bt2020nc",
    )
    assert probe.colour_range == "tv"
    assert probe.dynamic is Dynamic.HLG
    assert probe.duration_s == pytest.approx(1.0, abs=0.05)
    assert probe.frames == 50
    assert (probe.audio_codec, probe.audio_channels, probe.audio_rate) == ("aac", 2, 48_000)
    assert "mp4" in probe.container


def test_sdr_clip(media: Media) -> None:
    probe = probe_file(media.get("sdr_clip"))
    assert (probe.video_codec, probe.width, probe.height, probe.frame_rate) == (
        "h264",
        1920,
        1080,
        25.0,
    )
    assert (probe.bit_depth, probe.colour_primaries, probe.transfer) == (8, "bt709", "bt709")
    assert probe.dynamic is Dynamic.SDR
    assert probe.hdr10 is None


def test_pq_clip_carries_hdr10_static_metadata(media: Media) -> None:
    probe = probe_file(media.get("pq_clip"))
    assert (probe.transfer, probe.dynamic) == ("smpte2084", Dynamic.PQ)
    assert probe.hdr10 == {
        "mastering_display": {
            "red": [0.68, 0.32],
            "green": [0.265, 0.69],
            "blue": [0.15, 0.06],
            "white_point": [0.3127, 0.329],
            "min_luminance": 0.0001,
            "max_luminance": 1000.0,
        },
        "max_cll": 1000,
        "max_fall": 400,
    }


def test_audio_only(media: Media) -> None:
    probe = probe_file(media.get("loud_tone"))
    assert (probe.kind, probe.container, probe.audio_codec) == (AssetKind.AUDIO, "wav", "pcm_s16le")
    assert (probe.audio_channels, probe.audio_rate) == (2, 48_000)
    assert probe.duration_s == pytest.approx(5.0)
    assert probe.width is None


def test_image(media: Media, cjk_font: Path) -> None:
    probe = probe_file(media.get("text_image"))
    assert (probe.kind, probe.container, probe.width, probe.height) == (
        AssetKind.IMAGE,
        "png",
        800,
        240,
    )
    assert probe.bit_depth == 8


def test_type_comes_from_content_not_name(media: Media, tmp_path: Path) -> None:
    video_named_png = tmp_path / "holiday.png"
    shutil.copy(media.get("freeze_clip"), video_named_png)
    wav_named_jpg = tmp_path / "photo.jpg"
    shutil.copy(media.get("loud_tone"), wav_named_jpg)
    assert probe_file(video_named_png).kind is AssetKind.VIDEO
    assert probe_file(wav_named_jpg).kind is AssetKind.AUDIO


def test_truncated_clip_still_probes_from_its_header(media: Media) -> None:
    probe = probe_file(media.get("truncated_clip"))
    assert (probe.kind, probe.width, probe.duration_s) == (AssetKind.VIDEO, 320, 5.0)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("zero_byte", "empty file"),
        ("not_media", "not a media container"),
        ("decompression_bomb", "too large"),
        ("large_image", "too large"),  # Pillow only warns: a refusal all the same
        ("broken_png", "broken image"),
    ],
)
def test_refused(media: Media, name: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        probe_file(media.get(name))
    assert caught.value.field == "file"
    assert caught.value.message.startswith("unsupported or unreadable media: ")
    assert reason in caught.value.message


def test_refusal_does_not_leak_server_paths(media: Media) -> None:
    path = media.get("not_media")
    with pytest.raises(InvalidInput) as caught:
        probe_file(path)
    assert str(path.parent) not in caught.value.message


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        probe_file(tmp_path / "nothing.mp4")


def test_bomb_is_refused_even_with_pillows_limit_switched_off(
    media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with pytest.raises(InvalidInput, match="too large"):
        probe_file(media.get("large_image"))
