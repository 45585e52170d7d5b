"""Low-level writers for generated test media: MP4 (video + AAC), WAV, PNG bombs.

``factory.py`` decides what the pictures and sounds are; this module only
encodes them with PyAV (libx264/libx265/aac) and writes containers.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.stream import VideoStream

AUDIO_RATE = 48_000
FAST_X264 = {"preset": "ultrafast", "crf": "12", "g": "25"}


@dataclass
class Colour:
    """H.273 code points written into the stream (default: BT.709 limited range)."""

    primaries: int = 1
    transfer: int = 1
    matrix: int = 1
    range: int = 1


BT709 = Colour()
BT2020_HLG = Colour(primaries=9, transfer=18, matrix=9)
BT2020_PQ = Colour(primaries=9, transfer=16, matrix=9)


@dataclass
class VideoSpec:
    """How to encode: size, rate, encoder, pixel format, options, colour tags."""

    width: int = 320
    height: int = 180
    rate: int = 25
    codec: str = "libx264"
    pix_fmt: str = "yuv420p"
    options: dict[str, str] = field(default_factory=lambda: dict(FAST_X264))
    colour: Colour = field(default_factory=Colour)


def _add_video(out: OutputContainer, spec: VideoSpec) -> VideoStream:
    stream = out.add_stream(spec.codec, rate=spec.rate)
    assert isinstance(stream, VideoStream)
    stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, spec.pix_fmt
    context = stream.codec_context
    context.color_primaries = spec.colour.primaries
    context.color_trc = spec.colour.transfer
    context.colorspace = spec.colour.matrix
    context.color_range = spec.colour.range
    stream.options = dict(spec.options)
    return stream


def _encode_audio(out: OutputContainer, stream: AudioStream, audio: np.ndarray) -> None:
    """Feed stereo float audio (2, n) to ``stream`` in 1024-sample frames."""
    planar = stream.codec_context.format.is_planar
    fmt = stream.codec_context.format.name
    for start in range(0, audio.shape[1], 1024):
        chunk = audio[:, start : start + 1024]
        if fmt == "s16":
            chunk = (np.clip(chunk, -1, 1) * 32767).astype(np.int16)
        if not planar:
            chunk = chunk.T.reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format=fmt, layout="stereo")
        frame.sample_rate, frame.pts = AUDIO_RATE, start
        frame.time_base = Fraction(1, AUDIO_RATE)
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def write_video(
    path: Path,
    frames: Iterable[np.ndarray],
    spec: VideoSpec | None = None,
    audio: np.ndarray | None = None,
) -> Path:
    """Encode frames (ndarrays in ``spec.pix_fmt`` layout) and optional AAC audio.

    The MP4 is written with ``faststart`` (index first), so a file cut in half
    keeps a readable header — the "truncated but probe-able" case.
    """
    spec = spec or VideoSpec()
    with av.open(str(path), "w", format="mp4", options={"movflags": "faststart"}) as out:
        video = _add_video(out, spec)
        sound = (
            out.add_stream("aac", rate=AUDIO_RATE, layout="stereo") if audio is not None else None
        )
        for index, plane in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(plane, format=spec.pix_fmt)
            frame.pts, frame.time_base = index, Fraction(1, spec.rate)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None and audio is not None:
            _encode_audio(out, sound, audio)
    return path


def write_looped_video(
    path: Path,
    frames: list[av.VideoFrame],
    loops: int,
    spec: VideoSpec,
    audio: np.ndarray | None = None,
) -> Path:
    """Encode ``frames`` once as one closed GOP and repeat its packets ``loops`` times.

    x265 runs at a few frames per second on UHD here; repeating an encoded
    closed GOP gives a real, fully decodable N-second stream for the cost of
    one GOP. Every repetition starts with an IDR frame.
    """
    with av.open(str(path), "w", format="mp4", options={"movflags": "faststart"}) as out:
        video = _add_video(out, spec)
        sound = (
            out.add_stream("aac", rate=AUDIO_RATE, layout="stereo") if audio is not None else None
        )
        packets: list[av.Packet[VideoStream]] = []
        for index, frame in enumerate(frames):
            frame.pts, frame.time_base = index, Fraction(1, spec.rate)
            packets += video.encode(frame)
        packets += video.encode(None)
        chunk = [(bytes(p), p.pts or 0, p.dts or 0, p.is_keyframe, p.time_base) for p in packets]
        step = _gop_ticks(packets, len(frames))
        for loop in range(loops):
            for data, pts, dts, key, time_base in chunk:
                packet = av.Packet(data)
                packet.pts, packet.dts = pts + loop * step, dts + loop * step
                packet.time_base, packet.stream, packet.is_keyframe = time_base, video, key
                out.mux(packet)
        if sound is not None and audio is not None:
            _encode_audio(out, sound, audio)
    return path


def _gop_ticks(packets: list[av.Packet[VideoStream]], frames: int) -> int:
    """Duration of the encoded GOP in the packets' time base."""
    stamps = sorted(p.pts or 0 for p in packets)
    frame_ticks = stamps[1] - stamps[0] if len(stamps) > 1 else 1
    return frames * frame_ticks


def write_wav(path: Path, audio: np.ndarray) -> Path:
    """Stereo 16-bit PCM WAV."""
    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=AUDIO_RATE, layout="stereo")
        _encode_audio(out, stream, audio)
    return path


def write_png_bomb(path: Path, side: int = 30_000) -> Path:
    """A valid 1-bit ``side``×``side`` PNG of zeros: ~100 kB on disk, 900 Mpixel decoded.

    Built chunk by chunk so making it never needs the pixels in memory.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path
