"""Screenshots of generated content verified against a real pHash track."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lianbo.adapters.media.screenshots import MAX_BYTES, measure_photo, measure_screenshot
from lianbo.domain.errors import InvalidInput
from lianbo.domain.monitoring.verification import Expected, Verdict, verify
from tests.integration.media.writers import write_png_bomb
from tests.integration.monitoring import corpus
from tests.integration.monitoring.conftest import SECONDS, Clip

pytestmark = pytest.mark.integration

OFFSET = 0.5  # shots are taken half a second into each scene


def judge(clip: Clip, data: bytes, second: int) -> Verdict:
    shot = measure_screenshot(data).shot
    return verify(shot, Expected(clip.track, second + OFFSET)).verdict


def test_track_has_one_hash_per_second(scene_clip: Clip) -> None:
    assert len(scene_clip.track) == SECONDS


@pytest.mark.parametrize("kind", [k for k in corpus.SHOT_KINDS if not k[2]], ids=str)
def test_framebuffer_shots_of_the_expected_scene_match(
    scene_clip: Clip, kind: tuple[int, float, bool]
) -> None:
    for second, scene in enumerate(scene_clip.scenes):
        assert judge(scene_clip, corpus.framebuffer(scene, *kind), second) is Verdict.MATCH


@pytest.mark.parametrize("kind", [k for k in corpus.SHOT_KINDS if k[2]], ids=str)
def test_shots_with_a_ticker_band_never_raise_an_alarm(
    scene_clip: Clip, kind: tuple[int, float, bool]
) -> None:
    """A ticker moves a shot into the grey zone at worst (see the bench for recall)."""
    for second, scene in enumerate(scene_clip.scenes):
        verdict = judge(scene_clip, corpus.framebuffer(scene, *kind), second)
        assert verdict in (Verdict.MATCH, Verdict.UNKNOWN)


def test_png_screenshot_matches(scene_clip: Clip) -> None:
    out = io.BytesIO()
    scene_clip.scenes[2].save(out, "PNG")
    assert judge(scene_clip, out.getvalue(), 2) is Verdict.MATCH


@pytest.mark.parametrize("index", range(100, 112))
def test_other_content_is_a_mismatch(scene_clip: Clip, index: int) -> None:
    data = corpus.framebuffer(corpus.picture(index), 1920, 1.0, False)
    assert judge(scene_clip, data, 2) is Verdict.MISMATCH


def test_black_screen_while_bright_content_is_expected(scene_clip: Clip) -> None:
    data = corpus.jpeg(Image.new("RGB", (1920, 1080), (6, 6, 6)))
    shot = measure_screenshot(data).shot
    assert shot.black
    result = verify(shot, Expected(scene_clip.track, 1.5))
    assert result.verdict is Verdict.BLACK
    assert result.alarming


def test_bright_screenshot_is_not_black(scene_clip: Clip) -> None:
    assert not measure_screenshot(corpus.jpeg(scene_clip.scenes[0])).shot.black


def test_screen_stuck_on_an_old_scene_is_frozen(scene_clip: Clip) -> None:
    stuck = corpus.framebuffer(scene_clip.scenes[0], 1280, 1.0, False)
    previous = measure_screenshot(stuck).shot.phash
    shot = measure_screenshot(corpus.framebuffer(scene_clip.scenes[0], 1920, 0.9, False)).shot
    expected = Expected(scene_clip.track, 4.5)
    since = scene_clip.track[0:5]
    result = verify(shot, expected, previous=previous, since=since)
    assert result.verdict is Verdict.FROZEN
    assert result.alarming


def test_camera_photo_with_screen_quad_matches(scene_clip: Clip) -> None:
    rng = np.random.default_rng(5)
    for second, scene in enumerate(scene_clip.scenes):
        data, quad = corpus.camera(scene, rng)
        shot = measure_photo(data, quad).shot
        assert verify(shot, Expected(scene_clip.track, second + OFFSET)).verdict is Verdict.MATCH


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", b"GIF89a" + b"\x00" * 100, b"\xff" * (MAX_BYTES + 1)],
    ids=["empty", "text", "gif", "too-large"],
)
def test_refuses_what_is_not_an_accepted_image(data: bytes) -> None:
    with pytest.raises(InvalidInput):
        measure_screenshot(data)


def test_refuses_a_decompression_bomb(tmp_path: Path) -> None:
    bomb = write_png_bomb(tmp_path / "bomb.png").read_bytes()
    with pytest.raises(InvalidInput, match="too large"):
        measure_screenshot(bomb)


def test_refuses_a_truncated_jpeg() -> None:
    data = corpus.jpeg(corpus.picture(1))
    with pytest.raises(InvalidInput):
        measure_screenshot(data[: len(data) // 3])


def test_quad_needs_four_corners() -> None:
    with pytest.raises(InvalidInput):
        measure_photo(corpus.jpeg(corpus.picture(1)), [(0, 0), (1, 0), (1, 1)])
