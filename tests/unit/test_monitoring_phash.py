"""pHashes of several regions of one picture: imagehash's, computed together."""

from __future__ import annotations

import io

import imagehash
import numpy as np
import pytest
from PIL import Image

from lianbo.adapters.media.phash import phashes
from lianbo.adapters.media.screenshots import MIN_SIZE, measure_screenshot
from lianbo.adapters.media.tracks import band_regions, band_rows, picture_hashes
from lianbo.domain.errors import InvalidInput


def _picture(seed: int, width: int, height: int) -> np.ndarray:
    """Smooth gray content with some edges: blurred noise plus a few boxes."""
    rng = np.random.default_rng(seed)
    cells = rng.uniform(0, 255, (max(2, height // 12), max(2, width // 12)))
    image = Image.fromarray(cells.astype(np.uint8)).resize(
        (width, height), Image.Resampling.BICUBIC
    )
    picture = np.asarray(image).copy()
    for _ in range(3):
        x, y = int(rng.integers(0, width - 4)), int(rng.integers(0, height - 4))
        picture[y : y + height // 4, x : x + width // 5] = int(rng.integers(0, 256))
    return picture


def _reference(picture: np.ndarray, top: int, bottom: int) -> int:
    crop = Image.fromarray(picture).crop((0, top, picture.shape[1], bottom))
    return int(str(imagehash.phash(crop)), 16)


@pytest.mark.parametrize(
    "size", [(256, 144), (240, 135), (160, 90), (480, 270), (300, 300), (97, 40)], ids=str
)
def test_region_hashes_are_imagehash_bit_for_bit(size: tuple[int, int]) -> None:
    for seed in range(12):
        picture = _picture(seed, *size)
        height = size[1]
        band = band_rows(height)
        got = phashes(picture, band_regions(height))
        expected = [
            _reference(picture, 0, height),
            _reference(picture, 0, height - band),
            _reference(picture, band, height),
        ]
        assert got == expected, (size, seed)


def test_a_mirrored_region_is_the_picture_with_its_rows_reversed() -> None:
    picture = _picture(3, 240, 135)
    rows = np.arange(134, -1, -1)
    [mirrored] = phashes(picture, [rows])
    assert mirrored == _reference(picture[::-1].copy(), 0, 135)


def test_picture_hashes_are_the_full_and_band_free_pictures() -> None:
    picture = _picture(5, 256, 144)
    full, above, below = picture_hashes(Image.fromarray(picture))
    band = band_rows(144)
    assert int.from_bytes(full, "big") == _reference(picture, 0, 144)
    assert int.from_bytes(above, "big") == _reference(picture, 0, 144 - band)
    assert int.from_bytes(below, "big") == _reference(picture, band, 144)


def _encoded(picture: np.ndarray, kind: str) -> bytes:
    out = io.BytesIO()
    Image.fromarray(picture).convert("RGB").save(
        out, kind, **({"quality": 90} if kind == "JPEG" else {})
    )
    return out.getvalue()


def test_a_jpeg_is_hashed_from_its_reduced_decode_like_the_same_png() -> None:
    """JPEG decodes at 1/8 (draft), PNG is box-reduced by 8: the same picture,
    the same size, hashes a JPEG's noise apart."""
    big = np.asarray(Image.fromarray(_picture(7, 240, 135)).resize((1920, 1080)))
    jpeg, png = measure_screenshot(_encoded(big, "JPEG")), measure_screenshot(_encoded(big, "PNG"))
    assert (jpeg.width, jpeg.height) == (png.width, png.height) == (1920, 1080)
    for a, b in ((jpeg.shot.phash, png.shot.phash), (jpeg.shot.above, png.shot.above)):
        assert a is not None and b is not None
        assert (a ^ b).bit_count() <= 4
    assert not jpeg.shot.black and len(jpeg.shot.alternates) == 1


def test_a_picture_too_small_to_verify_is_refused() -> None:
    small = _picture(1, MIN_SIZE[0] - 1, MIN_SIZE[1])
    with pytest.raises(InvalidInput, match="too small"):
        measure_screenshot(_encoded(small, "PNG"))
