"""A generated clip with a different scene each second, analysed for real."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

from lianbo.adapters.media.analyse import analyse
from lianbo.adapters.media.hashes import unpack_track
from lianbo.adapters.media.probe import probe_file
from tests.integration.media.writers import VideoSpec, write_video
from tests.integration.monitoring import corpus

SECONDS = 5
RATE = 25
SIZE = (640, 360)


@dataclass(frozen=True)
class Clip:
    """The clip's path, its analysed pHash track and the first frame of each second.

    ``scenes`` are what a screen shows at the start of each second, upscaled
    to 1920×1080 as a player scales content to its panel.
    """

    path: Path
    track: list[int]
    scenes: list[Image.Image]


def _frame(scene: Image.Image, index: int) -> np.ndarray:
    """A scene with a small box moving every frame, as yuv420p planes."""
    picture = scene.resize(SIZE, Image.Resampling.BILINEAR)
    x = (index * 11) % (SIZE[0] - 30)
    ImageDraw.Draw(picture).rectangle((x, 20, x + 20, 40), fill=(250, 250, 250))
    rgb = av.VideoFrame.from_ndarray(np.asarray(picture), format="rgb24")
    planes: np.ndarray = rgb.reformat(format="yuv420p").to_ndarray()
    return planes


@pytest.fixture(scope="session")
def scene_clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    """5 s at 25 fps: second k shows ``corpus.picture(k)`` (all four generators)."""
    sources = [corpus.picture(k) for k in range(SECONDS)]
    frames = [_frame(sources[i // RATE], i) for i in range(SECONDS * RATE)]
    spec = VideoSpec(width=SIZE[0], height=SIZE[1], rate=RATE)
    path = write_video(tmp_path_factory.mktemp("monitoring") / "scenes.mp4", frames, spec)
    analysis = analyse(path, probe_file(path))
    scenes = [_picture(frames[k * RATE]) for k in range(SECONDS)]
    return Clip(path, unpack_track(analysis.phash_track), scenes)


def _picture(planes: np.ndarray) -> Image.Image:
    frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
    shown = Image.fromarray(frame.to_ndarray(format="rgb24"))
    return shown.resize(corpus.HD, Image.Resampling.BICUBIC)
