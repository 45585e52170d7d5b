"""Derivatives of an asset: poster thumbnail, sprite strip, renditions.

Posters and sprites seek to a few moments of a video rather than decoding
it all; renditions (``rendition.py``, re-exported here) re-encode fully.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from PIL import Image

from lianbo.adapters.media.detect import load_image, opened_container, refuse
from lianbo.adapters.media.probe import main_video
from lianbo.adapters.media.rendition import RenditionSpec, make_rendition
from lianbo.domain.media import AssetKind, Probe

POSTER_WIDTH = 480
POSTER_AT = 0.10  # a tenth in: past fades from black and title cards
SPRITE_FRAMES = 10
SPRITE_WIDTH = 160
JPEG_QUALITY = 85

__all__ = ["RenditionSpec", "make_poster", "make_rendition", "make_sprite", "make_thumbnail"]


def _scaled(picture: Image.Image, width: int) -> Image.Image:
    height = max(1, round(picture.height * width / picture.width))
    return picture.resize((width, height), Image.Resampling.LANCZOS)


def _seek_picture(
    container: InputContainer, video: VideoStream, at_s: float, width: int
) -> Image.Image | None:
    """The first frame at or after ``at_s``, ``width`` px wide (seeks to the keyframe before)."""
    chosen: VideoFrame | None = None
    try:
        if video.time_base is not None and at_s > 0:
            container.seek(int(at_s / video.time_base), stream=video, backward=True)
        for frame in container.decode(video):
            chosen = frame
            if frame.time is None or frame.time >= at_s - 1e-3:
                break
    except av.error.FFmpegError:
        pass  # damaged media: the last good frame before the damage will do
    if chosen is None:
        return None
    # Scale in swscale before leaving FFmpeg: a UHD RGB copy costs ~0.1 s.
    height = max(2, round(chosen.height * width / chosen.width))
    small = chosen.reformat(width=width, height=height, format="rgb24")
    return Image.fromarray(np.ascontiguousarray(small.to_ndarray()))


def _pictures(src: Path, probe: Probe, times: list[float], width: int) -> list[Image.Image]:
    """Pictures ``width`` px wide: the image itself, or video frames at ``times``."""
    if probe.kind is AssetKind.IMAGE:
        return [_scaled(load_image(src), width)]
    if probe.kind is not AssetKind.VIDEO:
        raise refuse("audio has no picture to derive from")
    with opened_container(src) as container:
        video = main_video(container)
        if video is None:
            raise refuse("no video stream")
        video.codec_context.thread_type = "AUTO"
        found = [_seek_picture(container, video, t, width) for t in times]
    pictures = [p for p in found if p is not None]
    if not pictures:
        raise refuse("no frame could be decoded")
    return pictures


def make_poster(src: Path, dst: Path, probe: Probe, *, width: int = POSTER_WIDTH) -> Path:
    """A JPEG ``width`` px wide: the image itself, or the frame ~10 % into the video."""
    at = (probe.duration_s or 0.0) * POSTER_AT
    _pictures(src, probe, [at], width)[0].save(dst, "JPEG", quality=JPEG_QUALITY)
    return dst


def make_sprite(
    src: Path, dst: Path, probe: Probe, *, frames: int = SPRITE_FRAMES, width: int = SPRITE_WIDTH
) -> Path:
    """One JPEG strip of ``frames`` evenly spaced frames, each ``width`` px wide.

    Frame i is taken at (i + ½) / frames of the duration, the middle of its
    share of the timeline. An image gives a strip of one.
    """
    duration = probe.duration_s or 0.0
    times = [(i + 0.5) * duration / frames for i in range(frames)]
    tiles = _pictures(src, probe, times, width)
    strip = Image.new("RGB", (width * len(tiles), max(t.height for t in tiles)), "black")
    for index, tile in enumerate(tiles):
        strip.paste(tile, (index * width, 0))
    strip.save(dst, "JPEG", quality=JPEG_QUALITY)
    return dst


# The name the ingest job (services/qc_job.py) calls the poster by.
make_thumbnail = make_poster
