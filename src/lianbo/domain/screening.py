"""Sensitive-word screening rules: normalise text, find listed words, report hits.

Pure: the media adapter supplies recognised lines (OCR of pictures and
frames, or ticker text) and a ``Matcher`` (Aho–Corasick there, a plain
substring search in tests); this module decides what counts as a hit.

Text and words are compared after ``normalise``: NFKC (full-width Latin and
digits become ASCII, compatibility ideographs their unified form),
case-folded, with white space and invisible format characters (zero-width
space/joiner) removed, so "赌 博", "赌\u200b博" and "ＡＢＣ" match "赌博" and
"abc".
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import groupby
from typing import Protocol

from lianbo.domain.media import ScreeningHit


def normalise(text: str) -> str:
    """NFKC, case-fold, drop white space and format characters."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in folded if not c.isspace() and unicodedata.category(c) != "Cf")


def word_table(words: Iterable[str]) -> dict[str, str]:
    """Normalised word → the word as listed (first spelling wins; blanks dropped)."""
    table: dict[str, str] = {}
    for word in words:
        key = normalise(word)
        if key:
            table.setdefault(key, word)
    return table


class Matcher(Protocol):
    """Finds listed words in normalised text."""

    def find(self, normalised: str) -> set[str]:
        """The listed words (as listed) occurring in ``normalised``."""
        ...


class SubstringMatcher:
    """A plain matcher: fine for a few words and for tests."""

    def __init__(self, words: Iterable[str]) -> None:
        self._table = word_table(words)

    def find(self, normalised: str) -> set[str]:
        return {word for key, word in self._table.items() if key in normalised}


@dataclass(frozen=True, slots=True)
class TextLine:
    """One recognised line, with the frame time and OCR confidence if any."""

    text: str
    time_s: float | None = None
    confidence: float | None = None


def _hits_in_group(lines: Sequence[TextLine], matcher: Matcher, source: str) -> list[ScreeningHit]:
    hits: list[ScreeningHit] = []
    found: set[str] = set()
    for line in lines:
        for word in sorted(matcher.find(normalise(line.text))):
            found.add(word)
            hits.append(ScreeningHit(word, source, line.text, line.time_s, line.confidence))
    # OCR splits a caption into boxes at punctuation and gaps; a word cut in
    # two is found in the joined text of the picture (reading order).
    joined = "".join(line.text for line in lines)
    confidences = [line.confidence for line in lines if line.confidence is not None]
    time_s = lines[0].time_s if lines else None
    for word in sorted(matcher.find(normalise(joined)) - found):
        hits.append(ScreeningHit(word, source, joined, time_s, min(confidences, default=None)))
    return hits


def screen_lines(lines: Sequence[TextLine], matcher: Matcher, source: str) -> list[ScreeningHit]:
    """Hits in ``lines``; lines with the same time are one picture (or one text)."""
    hits: list[ScreeningHit] = []
    for _, group in groupby(lines, key=lambda line: line.time_s):
        hits += _hits_in_group(list(group), matcher, source)
    return hits


def merge_repeats(hits: Sequence[ScreeningHit], gap_s: float) -> list[ScreeningHit]:
    """One hit per word and line while it stays on screen.

    Frames sampled every ``gap_s`` seconds see a caption many times; a hit
    repeating the same word in the same text within ``gap_s`` of the last
    one extends it instead of being reported again (the first time is kept,
    with the best confidence).
    """
    kept: list[ScreeningHit] = []
    current: dict[tuple[str, str], tuple[int, float]] = {}  # → (index in kept, last seen)
    for hit in hits:
        key = (hit.word, normalise(hit.text))
        run = current.get(key)
        if run is not None and hit.time_s is not None and hit.time_s - run[1] <= gap_s + 1e-6:
            first = kept[run[0]]
            kept[run[0]] = replace(first, confidence=_best(first.confidence, hit.confidence))
            current[key] = (run[0], hit.time_s)
        else:
            current[key] = (len(kept), math.inf if hit.time_s is None else hit.time_s)
            kept.append(hit)
    return kept


def _best(a: float | None, b: float | None) -> float | None:
    return max((c for c in (a, b) if c is not None), default=None)
