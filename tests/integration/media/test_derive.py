"""Derivatives: poster, sprite strip and a home (1080p H.264) rendition."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from lianbo.adapters.media.derive import make_poster, make_rendition, make_sprite
from lianbo.adapters.media.probe import probe_file
from lianbo.domain.errors import InvalidInput
from lianbo.domain.media import AssetKind, Dynamic
from tests.integration.conftest import Media

pytestmark = pytest.mark.integration


def size_of(path: Path) -> tuple[str | None, tuple[int, int]]:
    with Image.open(path) as picture:
        return picture.format, picture.size


def test_video_poster_and_sprite(media: Media, tmp_path: Path) -> None:
    src = media.get("black_clip")
    probe = probe_file(src)
    poster = make_poster(src, tmp_path / "poster.jpg", probe)
    sprite = make_sprite(src, tmp_path / "sprite.jpg", probe)
    assert size_of(poster) == ("JPEG", (480, 270))
    assert size_of(sprite) == ("JPEG", (1600, 90))  # 10 frames × 160 px


def test_poster_is_taken_a_tenth_in(media: Media, tmp_path: Path) -> None:
    # At 0.5 s the freeze clip's box has moved away from where frame 0 has it.
    src = media.get("freeze_clip")
    poster = make_poster(src, tmp_path / "poster.jpg", probe_file(src))
    with Image.open(poster) as picture, av.open(str(src)) as container:
        first = next(container.decode(video=0)).reformat(*picture.size, format="gray")
        taken = np.asarray(picture.convert("L"), dtype=np.int16)
    assert np.abs(taken - first.to_ndarray().astype(np.int16)).mean() > 2


def test_image_poster(media: Media, tmp_path: Path, cjk_font: Path) -> None:
    src = media.get("text_image")
    poster = make_poster(src, tmp_path / "poster.jpg", probe_file(src))
    assert size_of(poster) == ("JPEG", (480, 144))


def test_audio_has_no_poster(media: Media, tmp_path: Path) -> None:
    src = media.get("loud_tone")
    with pytest.raises(InvalidInput):
        make_poster(src, tmp_path / "poster.jpg", probe_file(src))


def test_home_rendition_of_uhd_hlg_is_1080p_h264(media: Media, tmp_path: Path) -> None:
    seen: list[float] = []
    out = make_rendition(
        media.get("uhd_hlg_clip"),
        tmp_path / "home.mp4",
        width=1920,
        height=1080,
        progress=seen.append,
    )
    probe = probe_file(out)
    assert probe.kind is AssetKind.VIDEO
    assert (probe.video_codec, probe.width, probe.height) == ("h264", 1920, 1080)
    assert (probe.pixel_format, probe.bit_depth, probe.frame_rate) == ("yuv420p", 8, 50.0)
    assert probe.frames == 50
    assert (probe.audio_codec, probe.audio_channels, probe.audio_rate) == ("aac", 2, 48_000)
    assert probe.dynamic is Dynamic.HLG  # tags carried over, no tone mapping
    assert seen == sorted(seen) and seen[-1] == 1.0
    with av.open(str(out)) as container:  # every frame decodes
        assert sum(1 for _ in container.decode(video=0)) == 50


def test_letterboxed_rendition_keeps_the_aspect(media: Media, tmp_path: Path) -> None:
    out = make_rendition(media.get("freeze_clip"), tmp_path / "square.mp4", width=320, height=320)
    with av.open(str(out)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="gray")
    assert frame.shape == (320, 320)
    assert frame[:50].max() <= 20 and frame[-50:].max() <= 20  # black bars top and bottom


@pytest.mark.parametrize("name", ["truncated_clip", "corrupt_clip"])
def test_damaged_media_still_gets_derivatives(media: Media, tmp_path: Path, name: str) -> None:
    src = media.get(name)
    probe = probe_file(src)
    assert size_of(make_poster(src, tmp_path / "poster.jpg", probe))[1] == (480, 270)
    assert size_of(make_sprite(src, tmp_path / "sprite.jpg", probe))[0] == "JPEG"
    out = make_rendition(src, tmp_path / "home.mp4", width=320, height=180)
    assert probe_file(out).frames


def test_audio_has_no_rendition(media: Media, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        make_rendition(media.get("loud_tone"), tmp_path / "x.mp4", width=1920, height=1080)
