"""Probe: the technical facts of a file, read by content (PyAV and Pillow).

``probe_file`` reads headers and, for video, decodes the first frame (colour
tags some containers leave to the bitstream, HDR10 SEI). It does not check
that the whole file decodes — a truncated file whose header reads still
probes; ``analyse`` later reports how far it got.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.stream import Disposition
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from PIL import Image

from lianbo.adapters.media.colour import MATRICES, PRIMARIES, RANGES, TRANSFERS, dynamic_of
from lianbo.adapters.media.detect import check_file, opened_container, opened_image, refuse
from lianbo.adapters.media.hdr import hdr10_metadata
from lianbo.domain.media import AssetKind, Probe

_IMAGE_BITS = {"1": 1, "I;16": 16, "I;16B": 16, "I;16L": 16, "I": 32, "F": 32}


def probe_file(path: Path) -> Probe:
    """What ``path`` is (video, audio or image) and its technical facts.

    Raises ``InvalidInput`` (field ``file``) for an empty file, bytes that
    are no accepted media, or an image too large to decode safely.
    """
    check_file(path)
    with opened_image(path) as image:
        if image is not None:
            return _probe_image(image)
    with opened_container(path) as container:
        return _probe_container(container)


def _probe_image(image: Image.Image) -> Probe:
    try:
        image.load()  # a header is not enough: the pixels must decode
    except (OSError, SyntaxError, ValueError) as exc:
        raise refuse(f"broken image ({exc})") from exc
    return Probe(
        kind=AssetKind.IMAGE,
        container=(image.format or "image").lower(),
        width=image.width,
        height=image.height,
        bit_depth=_IMAGE_BITS.get(image.mode, 8),
        pixel_format=image.mode,
        frames=int(getattr(image, "n_frames", 1)),
    )


def main_video(container: InputContainer) -> VideoStream | None:
    """The first real video stream (cover art in audio files does not count)."""
    for stream in container.streams.video:
        if not stream.disposition & Disposition.attached_pic and stream.codec_context.width:
            return stream
    return None


def main_audio(container: InputContainer) -> AudioStream | None:
    """The first audio stream with a sample rate and channels."""
    for stream in container.streams.audio:
        if stream.codec_context.sample_rate and stream.codec_context.channels:
            return stream
    return None


def _probe_container(container: InputContainer) -> Probe:
    video, audio = main_video(container), main_audio(container)
    if video is None and audio is None:
        raise refuse("no video or audio stream")
    kind = AssetKind.VIDEO if video is not None else AssetKind.AUDIO
    probe = Probe(kind=kind, container=container.format.name, duration_s=_duration(container))
    if audio is not None:
        probe = replace(
            probe,
            audio_codec=audio.codec_context.name,
            audio_channels=audio.codec_context.channels,
            audio_rate=audio.codec_context.sample_rate,
        )
    return _with_video(probe, container, video) if video is not None else probe


def _duration(container: InputContainer) -> float | None:
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    durations = [
        float(s.duration * s.time_base) for s in container.streams if s.duration and s.time_base
    ]
    return max(durations) if durations else None


def _with_video(probe: Probe, container: InputContainer, video: VideoStream) -> Probe:
    context = video.codec_context
    first = _first_frame(container, video)
    pix_fmt = context.pix_fmt or (first.format.name if first is not None else None)
    primaries, transfer, matrix, colour_range = _colour(context, first)
    rate: Fraction | None = video.average_rate or video.guessed_rate or video.base_rate
    return replace(
        probe,
        video_codec=context.name,
        width=context.width,
        height=context.height,
        frame_rate=float(rate) if rate else None,
        bit_depth=_bit_depth(pix_fmt),
        pixel_format=pix_fmt,
        colour_primaries=primaries,
        transfer=transfer,
        matrix=matrix,
        colour_range=colour_range,
        dynamic=dynamic_of(transfer),
        hdr10=hdr10_metadata(first) if first is not None else None,
        frames=video.frames or None,
    )


def _first_frame(container: InputContainer, video: VideoStream) -> VideoFrame | None:
    try:
        for frame in container.decode(video):
            return frame
    except av.error.FFmpegError:
        pass  # a damaged start still probes; analysis reports the damage
    return None


def _colour(
    context: object, frame: VideoFrame | None
) -> tuple[str | None, str | None, str | None, str | None]:
    """Colour tags from the stream, else from the first decoded frame."""

    def pick(name: str, table: dict[int, str]) -> str | None:
        for source in (context, frame):
            code = getattr(source, name, None)
            if code is not None and int(code) in table:
                return table[int(code)]
        return None

    return (
        pick("color_primaries", PRIMARIES),
        pick("color_trc", TRANSFERS),
        pick("colorspace", MATRICES),
        pick("color_range", RANGES),
    )


def _bit_depth(pix_fmt: str | None) -> int | None:
    if not pix_fmt:
        return None
    try:
        components = av.VideoFormat(pix_fmt).components
    except (ValueError, av.error.FFmpegError):
        return None
    return max((c.bits for c in components), default=None)
