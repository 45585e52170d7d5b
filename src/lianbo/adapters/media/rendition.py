"""Renditions: re-encode an asset for a tier (e.g. home: 1080p H.264 8-bit + AAC).

The picture is scaled to fit inside the target size and padded to it
(letter- or pillar-box), converted to 4:2:0 at the codec's bit depth, and
keeps the source's colour tags. HDR is not tone-mapped: an HLG source stays
HLG (which SDR sets show acceptably); a PQ source would need a tone-mapping
filter this FFmpeg build lacks (zscale/libplacebo).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.filter import Graph
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from lianbo.adapters.media.detect import opened_container, refuse
from lianbo.adapters.media.probe import main_audio, main_video

_ENCODERS = {
    "h264": ("libx264", "yuv420p", {"preset": "veryfast", "crf": "21"}),
    "hevc": (
        "libx265",
        "yuv420p10le",
        {"preset": "fast", "crf": "22", "x265-params": "log-level=error"},
    ),
}
AUDIO_RATE = 48_000


@dataclass(frozen=True, slots=True)
class RenditionSpec:
    """Target of one rendition."""

    width: int
    height: int
    codec: str = "h264"


HOME = RenditionSpec(1920, 1080, "h264")


def _scaler(source: VideoStream, width: int, height: int, pix_fmt: str) -> Graph:
    graph = av.filter.Graph()
    nodes = [
        graph.add_buffer(template=source),
        graph.add("scale", f"{width}:{height}:force_original_aspect_ratio=decrease"),
        graph.add("pad", f"{width}:{height}:(ow-iw)/2:(oh-ih)/2"),
        graph.add("format", pix_fmt),
        graph.add("buffersink"),
    ]
    graph.link_nodes(*nodes)
    graph.configure()
    return graph


def _video_out(out: OutputContainer, source: VideoStream, spec: RenditionSpec) -> VideoStream:
    encoder, pix_fmt, options = _ENCODERS[spec.codec]
    stream = out.add_stream(encoder, rate=source.average_rate or source.guessed_rate or 25)
    assert isinstance(stream, VideoStream)
    stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, pix_fmt
    stream.options = dict(options)
    for name in ("color_primaries", "color_trc", "colorspace", "color_range"):
        setattr(stream.codec_context, name, getattr(source.codec_context, name))
    return stream


class _Encoder:
    """Pushes decoded frames through scaler and encoders into ``out``."""

    def __init__(self, out: OutputContainer, video: VideoStream, spec: RenditionSpec):
        self.out, self.source = out, video
        self.video = _video_out(out, video, spec)
        self.graph = _scaler(video, spec.width, spec.height, _ENCODERS[spec.codec][1])
        self.rate = Fraction(self.video.codec_context.framerate or 25)
        self.audio: AudioStream | None = None
        self.next_pts = 0
        self.start_s: float | None = None  # the rendition starts at 0 whatever the source

    def picture(self, frame: VideoFrame | None) -> None:
        self.graph.vpush(frame)
        while True:
            try:
                scaled = self.graph.vpull()
            except (av.error.BlockingIOError, av.error.EOFError):
                break
            # Re-time on the output rate; drop frames that would not advance.
            if self.start_s is None:
                self.start_s = scaled.time or 0.0
            pts = round(((scaled.time or 0.0) - self.start_s) * self.rate)
            if pts < self.next_pts:
                continue
            scaled.pts, scaled.time_base, self.next_pts = pts, 1 / self.rate, pts + 1
            self.out.mux(self.video.encode(scaled))
        if frame is None:
            self.out.mux(self.video.encode(None))


def make_rendition(
    src: Path,
    dst: Path,
    *,
    width: int,
    height: int,
    codec: str = "h264",
    progress: Callable[[float], None] | None = None,
) -> Path:
    """Encode ``src`` to an MP4 at ``dst``: ``width``×``height`` ``codec`` video, AAC stereo.

    ``codec`` is ``h264`` (8-bit 4:2:0) or ``hevc`` (10-bit 4:2:0).
    ``progress`` receives the fraction done (0..1).
    """
    if codec not in _ENCODERS:
        raise ValueError(f"unknown rendition codec {codec!r}")
    spec = RenditionSpec(width, height, codec)
    with (
        opened_container(src) as inp,
        av.open(str(dst), "w", format="mp4", options={"movflags": "faststart"}) as out,
    ):
        video, audio = main_video(inp), main_audio(inp)
        if video is None:
            raise refuse("no video stream to render")
        video.codec_context.thread_type = "AUTO"
        encoder = _Encoder(out, video, spec)
        if audio is not None:
            encoder.audio = out.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
        _transcode(inp, encoder, audio, _duration(inp), progress)
    if progress:
        progress(1.0)
    return dst


def _duration(inp: av.container.InputContainer) -> float:
    return inp.duration / av.time_base if inp.duration else 0.0


def _decoded(
    inp: av.container.InputContainer, streams: list[VideoStream | AudioStream]
) -> Iterator[VideoFrame | av.AudioFrame]:
    """Frames of ``streams``; damaged packets are skipped, a read error ends it."""
    try:
        for packet in inp.demux(*streams):
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                continue  # QC reports the damage; the rendition carries on
            yield from (f for f in frames if isinstance(f, VideoFrame | av.AudioFrame))
    except av.error.FFmpegError:
        return


def _transcode(
    inp: av.container.InputContainer,
    encoder: _Encoder,
    audio: AudioStream | None,
    duration: float,
    progress: Callable[[float], None] | None,
) -> None:
    streams = [s for s in (encoder.source, audio) if s is not None]
    reported = 0.0
    for frame in _decoded(inp, streams):
        if isinstance(frame, VideoFrame):
            encoder.picture(frame)
            done = min(1.0, (frame.time or 0.0) / duration) if duration else 0.0
            if progress and done - reported >= 0.01:
                reported = done
                progress(done)
        elif encoder.audio is not None and isinstance(frame, av.AudioFrame):
            frame.pts = None  # the encoder's own resampler re-times audio
            encoder.out.mux(encoder.audio.encode(frame))
    encoder.picture(None)
    if encoder.audio is not None:
        encoder.out.mux(encoder.audio.encode(None))
