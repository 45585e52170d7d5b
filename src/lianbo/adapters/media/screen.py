"""Screen media and text for listed sensitive words (OCR + Aho–Corasick).

Images are read whole. Video is decoded once, front to back, and a frame
goes to OCR every ``SAMPLE_EVERY_S`` seconds and at scene changes (a cheap
luma-proxy difference), so a caption that appears between two regular
samples is read when it appears. The rules (normalisation, joining lines
OCR split, merging a caption seen in successive samples) are in
``lianbo.domain.screening``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import ahocorasick
import av
import numpy as np
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from lianbo.adapters.media.detect import load_image, opened_container
from lianbo.adapters.media.ocr import recognise
from lianbo.adapters.media.probe import main_video
from lianbo.adapters.media.proxy import LumaProxy
from lianbo.domain.media import AssetKind, Probe, ScreeningHit
from lianbo.domain.screening import TextLine, merge_repeats, screen_lines, word_table

SAMPLE_EVERY_S = 2.0
SCENE_CHANGE = 0.15  # mean luma change (fraction of range) that counts as a cut
MIN_GAP_S = 0.5  # never OCR two frames closer than this
OCR_WIDTH = 1280  # captions on UHD are large; OCR at 720p is enough and 4× faster


class AhoCorasickMatcher:
    """``Matcher`` over an Aho–Corasick automaton of the normalised words."""

    def __init__(self, words: list[str]) -> None:
        self._automaton = ahocorasick.Automaton()
        for key, word in word_table(words).items():
            self._automaton.add_word(key, word)
        self.empty = len(self._automaton) == 0
        if not self.empty:
            self._automaton.make_automaton()

    def find(self, normalised: str) -> set[str]:
        if self.empty:
            return set()
        return {str(word) for _, word in self._automaton.iter(normalised)}


def screen_text(text: str, words: list[str]) -> list[ScreeningHit]:
    """Hits of ``words`` in ticker text (source ``text``)."""
    lines = [TextLine(line) for line in text.splitlines() if line.strip()]
    return screen_lines(lines, AhoCorasickMatcher(words), "text")


def screen_file(path: Path, probe: Probe, words: list[str]) -> list[ScreeningHit]:
    """Hits of ``words`` in the text OCR reads in an image or a video's frames."""
    matcher = AhoCorasickMatcher(words)
    if matcher.empty:
        return []
    if probe.kind is AssetKind.IMAGE:
        bgr = np.ascontiguousarray(np.asarray(load_image(path))[:, :, ::-1])
        lines = [TextLine(text, None, score) for text, score in recognise(bgr)]
        return screen_lines(lines, matcher, "image")
    if probe.kind is not AssetKind.VIDEO:
        return []
    lines = [
        TextLine(text, time_s, score)
        for time_s, bgr in sample_frames(path, probe)
        for text, score in recognise(bgr)
    ]
    return merge_repeats(screen_lines(lines, matcher, "frame"), SAMPLE_EVERY_S)


def _ocr_picture(frame: VideoFrame) -> np.ndarray:
    width = min(frame.width, OCR_WIDTH)
    height = max(2, round(frame.height * width / frame.width) // 2 * 2)
    return frame.reformat(width=width, height=height, format="bgr24").to_ndarray()


def sample_frames(path: Path, probe: Probe) -> Iterator[tuple[float, np.ndarray]]:
    """(time, BGR picture) every SAMPLE_EVERY_S and at scene changes."""
    with opened_container(path) as container:
        video = main_video(container)
        if video is None:
            return
        video.codec_context.thread_type = "AUTO"
        context = video.codec_context
        full_range = probe.colour_range == "pc"
        proxy = LumaProxy(context.width, context.height, context.pix_fmt or "", full_range)
        origin = container.start_time / av.time_base if container.start_time else 0.0
        last_time, previous, due = -MIN_GAP_S, None, 0.0
        for frame in _frames(container, video):
            now = float(frame.time or 0.0) - origin  # the same clock as ``analyse``
            luma = proxy(frame)
            cut = previous is not None and _changed(luma, previous, proxy)
            if now + 1e-6 >= due or (cut and now - last_time >= MIN_GAP_S):
                yield now, _ocr_picture(frame)
                last_time, due = now, now + SAMPLE_EVERY_S
            previous = luma


def _frames(container: InputContainer, video: VideoStream) -> Iterator[VideoFrame]:
    """Decoded frames up to the first damage (``analyse`` reports the damage)."""
    try:
        yield from container.decode(video)
    except av.error.FFmpegError:
        return


def _changed(luma: np.ndarray, previous: np.ndarray, proxy: LumaProxy) -> bool:
    return float(np.abs(luma - previous).mean()) / proxy.levels.span >= SCENE_CHANGE
