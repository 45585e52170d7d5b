"""FFmpeg's own ``ebur128`` filter, as a yardstick for our loudness meter.

Not used by QC (``loudness.py`` measures independently); the benchmark and
the tests compare the two on the same audio.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.audio.frame import AudioFrame
from av.filter import Graph

from lianbo.adapters.media.probe import main_audio


def _graph(rate: int, fmt: str, layout: str) -> Graph:
    graph = av.filter.Graph()
    nodes = [
        graph.add_abuffer(sample_rate=rate, format=fmt, layout=layout, time_base=Fraction(1, rate)),
        graph.add("ebur128", "peak=true:metadata=1"),
        graph.add("abuffersink"),
    ]
    graph.link_nodes(*nodes)
    graph.configure()
    return graph


def _drain(graph: Graph, last: dict[str, str]) -> None:
    while True:
        try:
            frame = graph.pull()
        except (av.error.BlockingIOError, av.error.EOFError):
            return
        last.update(frame.metadata)


def _result(metadata: dict[str, str]) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) from the last frame's ebur128 metadata."""
    peak = float(metadata.get("lavfi.r128.true_peak", "0") or 0)
    true_peak = 20 * float(np.log10(peak)) if peak > 0 else float("-inf")
    return float(metadata["lavfi.r128.I"]), true_peak


def ebur128_of_samples(samples: np.ndarray, rate: int) -> tuple[float, float]:
    """ffmpeg ebur128 (integrated, true peak) of float stereo samples (2, n)."""
    graph = _graph(rate, "fltp", "stereo")
    metadata: dict[str, str] = {}
    step = rate // 10
    for start in range(0, samples.shape[1], step):
        chunk = np.ascontiguousarray(samples[:, start : start + step], dtype=np.float32)
        frame = AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
        graph.push(frame)
        _drain(graph, metadata)
    graph.push(None)
    _drain(graph, metadata)
    return _result(metadata)


def ebur128_of_file(path: Path) -> tuple[float, float]:
    """ffmpeg ebur128 (integrated, true peak) of the first audio stream of ``path``."""
    with av.open(str(path)) as container:
        stream = main_audio(container)
        if stream is None:
            raise ValueError(f"{path} has no audio")
        context = stream.codec_context
        graph = _graph(context.sample_rate, context.format.name, context.layout.name)
        metadata: dict[str, str] = {}
        for frame in container.decode(stream):
            frame.pts = None  # the filter counts samples itself
            graph.push(frame)
            _drain(graph, metadata)
        graph.push(None)
        _drain(graph, metadata)
    return _result(metadata)
