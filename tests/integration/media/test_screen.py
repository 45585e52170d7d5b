"""Screening: OCR of burned-in text in images and frames, words in ticker text."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lianbo.adapters.media import ocr
from lianbo.adapters.media.probe import probe_file
from lianbo.adapters.media.screen import AhoCorasickMatcher, screen_file, screen_text
from lianbo.domain.screening import SubstringMatcher, normalise
from tests.integration.conftest import Media
from tests.integration.media import factory

pytestmark = pytest.mark.integration

WORDS = [factory.SENSITIVE, "法轮", "casino"]


def test_burned_in_word_is_found_in_an_image(media: Media, cjk_font: Path) -> None:
    path = media.get("text_image")
    (hit,) = screen_file(path, probe_file(path), WORDS)
    assert (hit.word, hit.source, hit.time_s) == (factory.SENSITIVE, "image", None)
    assert factory.SENSITIVE in hit.text
    assert hit.confidence is not None and hit.confidence > 0.8


def test_burned_in_word_is_found_in_video_frames_with_its_time(
    media: Media, cjk_font: Path
) -> None:
    path = media.get("text_video")
    hits = screen_file(path, probe_file(path), WORDS)
    # Sampled at 2 s and again at 3.96 s (a new sample every 2 s): one merged hit.
    (hit,) = hits
    assert (hit.word, hit.source) == (factory.SENSITIVE, "frame")
    assert hit.time_s == pytest.approx(factory.TEXT_FROM, abs=1 / factory.RATE)


def test_clean_media_has_no_hits(media: Media) -> None:
    path = media.get("pq_clip")
    assert screen_file(path, probe_file(path), WORDS) == []


def test_audio_and_empty_word_lists_are_not_read(media: Media) -> None:
    path = media.get("loud_tone")
    assert screen_file(path, probe_file(path), WORDS) == []
    assert screen_file(media.get("freeze_clip"), probe_file(path), []) == []


def test_ticker_text() -> None:
    hits = screen_text("今晚新闻联播\n 网上 赌　博 危害大 \nCASINO night", WORDS)
    assert [(h.word, h.source, h.text) for h in hits] == [
        (factory.SENSITIVE, "text", " 网上 赌　博 危害大 "),
        ("casino", "text", "CASINO night"),
    ]


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(st.text(alphabet="赌博abAＢ ", min_size=1, max_size=3), max_size=4),
    text=st.text(alphabet="赌博abAＢ x\u200b", max_size=20),
)
def test_aho_corasick_agrees_with_plain_substring_search(words: list[str], text: str) -> None:
    expected = SubstringMatcher(words).find(normalise(text))
    assert AhoCorasickMatcher(words).find(normalise(text)) == expected


def test_damaged_video_is_screened_as_far_as_it_decodes(media: Media) -> None:
    for name in ("truncated_clip", "corrupt_clip"):
        path = media.get(name)
        assert screen_file(path, probe_file(path), WORDS) == []


def test_ocr_engine_uses_only_bundled_models(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object) -> None:
        raise AssertionError("OCR tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    ocr._engine.cache_clear()  # build it again, here, without a network
    try:
        blank = np.full((64, 256, 3), 255, np.uint8)
        assert ocr.recognise(blank) == []
        assert all(p.is_relative_to(ocr.MODELS) for p in (ocr.DETECTION, ocr.RECOGNITION))
    finally:
        ocr._engine.cache_clear()
