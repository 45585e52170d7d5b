"""Screenshots of generated content verified against a real pHash track."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lianbo.adapters.media.analyse import analyse
from lianbo.adapters.media.hashes import unpack_track
from lianbo.adapters.media.probe import probe_file
from lianbo.adapters.media.screenshots import MAX_BYTES, measure_photo, measure_screenshot
from lianbo.domain.errors import InvalidInput
from lianbo.domain.monitoring.tracks import read_tracks
from lianbo.domain.monitoring.verification import ABOVE, BELOW, Expected, Verdict, verify
from tests.integration.media.writers import write_png_bomb
from tests.integration.monitoring import corpus
from tests.integration.monitoring.conftest import SECONDS, Clip

pytestmark = pytest.mark.integration

OFFSET = 0.5  # shots are taken half a second into each scene
TICKER_KINDS = [k for k in corpus.SHOT_KINDS if k[2]]


@pytest.fixture(scope="module")
def stored(scene_clip: Clip) -> bytes:
    """The clip's pHash track as the analyser stores it with the asset."""
    return analyse(scene_clip.path, probe_file(scene_clip.path)).phash_track


def judge(clip: Clip, data: bytes, second: int) -> Verdict:
    shot = measure_screenshot(data).shot
    return verify(shot, Expected(clip.track, second + OFFSET)).verdict


def judged(blob: bytes, data: bytes, second: float) -> Verdict:
    """The verdict on ``data`` against a stored track, ``second`` into the clip."""
    return verify(measure_screenshot(data).shot, Expected.stored(blob, second)).verdict


def test_track_has_one_hash_per_second(scene_clip: Clip, stored: bytes) -> None:
    tracks = read_tracks(stored)
    assert tracks.seconds == len(tracks.above) == len(tracks.below) == SECONDS
    assert list(tracks.full) == unpack_track(stored) == scene_clip.track
    assert tracks.above != tracks.full and tracks.below != tracks.full


def test_an_image_gets_all_three_hashes(tmp_path: Path) -> None:
    path = tmp_path / "slide.png"
    corpus.picture(3).save(path)
    tracks = read_tracks(analyse(path, probe_file(path)).phash_track)
    assert tracks.seconds == len(tracks.above) == len(tracks.below) == 1
    shot = corpus.framebuffer(corpus.picture(3), 1280, 1.0, corpus.BOTTOM)
    assert judged(analyse(path, probe_file(path)).phash_track, shot, 0.0) is Verdict.MATCH


@pytest.mark.parametrize("kind", [k for k in corpus.SHOT_KINDS if not k[2]], ids=str)
def test_framebuffer_shots_of_the_expected_scene_match(
    scene_clip: Clip, kind: tuple[int, float, bool]
) -> None:
    for second, scene in enumerate(scene_clip.scenes):
        assert judge(scene_clip, corpus.framebuffer(scene, *kind), second) is Verdict.MATCH


@pytest.mark.parametrize("kind", TICKER_KINDS, ids=str)
def test_shots_with_a_ticker_over_a_tenth_of_the_frame_match(
    stored: bytes, scene_clip: Clip, kind: tuple[int, float, str]
) -> None:
    """A ticker band over the bottom or top 10 % (scaled, re-lit, JPEG q50) matches."""
    for second, scene in enumerate(scene_clip.scenes):
        data = corpus.framebuffer(scene, *kind)
        result = verify(measure_screenshot(data).shot, Expected.stored(stored, second + OFFSET))
        assert result.verdict is Verdict.MATCH, (second, result)
        assert result.at_s == second


def test_a_ticker_is_matched_through_the_band_free_picture(stored: bytes, scene_clip: Clip) -> None:
    """Scene 0 with a bottom ticker is 12 bits off in full: only the crop proves it."""
    expected = Expected.stored(stored, OFFSET)
    for band, region in ((corpus.BOTTOM, ABOVE), (corpus.TOP, BELOW)):
        shot = measure_screenshot(corpus.framebuffer(scene_clip.scenes[0], 1920, 1.0, band)).shot
        result = verify(shot, expected)
        assert (result.verdict, result.region) == (Verdict.MATCH, region)
    shot = measure_screenshot(corpus.framebuffer(scene_clip.scenes[0], 1920, 1.0, "bottom")).shot
    assert verify(shot, Expected(scene_clip.track, OFFSET)).verdict is not Verdict.MATCH


@pytest.mark.parametrize("index", range(100, 112))
@pytest.mark.parametrize("band", [corpus.BOTTOM, corpus.TOP])
def test_other_content_with_the_same_ticker_is_a_mismatch(
    stored: bytes, index: int, band: str
) -> None:
    data = corpus.framebuffer(corpus.picture(index), 1920, 1.0, band)
    assert judged(stored, data, 2 + OFFSET) is Verdict.MISMATCH


def test_the_ticker_alone_does_not_make_two_scenes_match(stored: bytes) -> None:
    """Each second of the clip against every other scene, both with the same ticker."""
    tracks = read_tracks(stored)
    for second in range(SECONDS):
        expected = Expected(
            [tracks.full[second]],
            0.0,
            above=[tracks.above[second]],
            below=[tracks.below[second]],
        )
        for other in set(range(SECONDS)) - {second}:
            for band in (corpus.BOTTOM, corpus.TOP):
                data = corpus.framebuffer(corpus.picture(other), 1280, 1.0, band)
                verdict = verify(measure_screenshot(data).shot, expected).verdict
                assert verdict is Verdict.MISMATCH, (second, other, band)


def test_ticker_over_old_full_frame_track_never_raises_an_alarm(
    scene_clip: Clip, stored: bytes
) -> None:
    """A track stored before band crops (full frame only) still verifies, crops unused."""
    old = b"".join(h.to_bytes(8, "big") for h in read_tracks(stored).full)
    for second, scene in enumerate(scene_clip.scenes):
        plain = corpus.framebuffer(scene, 1280, 1.0, "")
        assert judged(old, plain, second + OFFSET) is Verdict.MATCH
        ticker = corpus.framebuffer(scene, 1280, 1.0, corpus.BOTTOM)
        assert judged(old, ticker, second + OFFSET) in (Verdict.MATCH, Verdict.UNKNOWN)


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


def test_screen_stuck_under_a_running_ticker_is_frozen(scene_clip: Clip, stored: bytes) -> None:
    """The ticker scrolled between the two shots; the picture above it did not change."""
    held = scene_clip.scenes[0].resize((1280, 720), Image.Resampling.BILINEAR)
    previous = measure_screenshot(corpus.jpeg(corpus.ticker(held, scrolled=0))).shot
    current = measure_screenshot(corpus.jpeg(corpus.ticker(held, scrolled=400))).shot
    expected = Expected.stored(stored, 4.5)
    since = scene_clip.track[0:5]
    result = verify(current, expected, previous=previous, since=since)
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
