"""Screening rules: normalisation, matching recognised lines, merging repeats."""

from __future__ import annotations

from lianbo.domain.media import ScreeningHit
from lianbo.domain.screening import (
    SubstringMatcher,
    TextLine,
    merge_repeats,
    normalise,
    screen_lines,
    word_table,
)

WORDS = ["赌博", "Casino", "ＶＰＮ"]


def test_normalise_folds_width_case_and_drops_spaces_and_invisible_characters() -> None:
    assert normalise("ＡＢＣ Ｄ") == "abcd"
    assert normalise("赌\u200b 博\t") == "赌博"
    assert normalise("CASINO") == normalise("casino") == "casino"
    assert normalise("①") == "1"  # NFKC compatibility forms


def test_word_table_keeps_the_listed_spelling_and_drops_blanks() -> None:
    assert word_table(["ＶＰＮ", "vpn", "  ", ""]) == {"vpn": "ＶＰＮ"}


def test_hits_carry_word_line_time_and_confidence() -> None:
    lines = [TextLine("今日新闻", 4.0, 0.99), TextLine("严禁 赌 博", 4.0, 0.87)]
    hits = screen_lines(lines, SubstringMatcher(WORDS), "frame")
    assert hits == [ScreeningHit("赌博", "frame", "严禁 赌 博", 4.0, 0.87)]


def test_listed_spelling_is_reported_for_a_differently_written_match() -> None:
    hits = screen_lines([TextLine("free vpn here")], SubstringMatcher(WORDS), "text")
    assert [h.word for h in hits] == ["ＶＰＮ"]


def test_word_split_by_ocr_into_two_boxes_is_found_in_the_joined_picture() -> None:
    lines = [TextLine("网上赌", 2.0, 0.95), TextLine("博害人", 2.0, 0.9)]
    (hit,) = screen_lines(lines, SubstringMatcher(WORDS), "frame")
    assert (hit.word, hit.text, hit.time_s, hit.confidence) == ("赌博", "网上赌博害人", 2.0, 0.9)


def test_lines_of_different_frames_are_not_joined() -> None:
    lines = [TextLine("网上赌", 2.0), TextLine("博害人", 4.0)]
    assert screen_lines(lines, SubstringMatcher(WORDS), "frame") == []


def test_a_line_with_two_words_gives_two_hits() -> None:
    hits = screen_lines([TextLine("Casino 赌博")], SubstringMatcher(WORDS), "text")
    assert sorted(h.word for h in hits) == ["Casino", "赌博"]


def test_no_words_no_hits() -> None:
    assert screen_lines([TextLine("赌博")], SubstringMatcher([]), "text") == []


def test_caption_seen_in_successive_samples_is_one_hit_with_the_best_confidence() -> None:
    seen = [
        ScreeningHit("赌博", "frame", "请勿赌博", t, c) for t, c in [(2, 0.8), (4, 0.95), (6, 0.9)]
    ]
    assert merge_repeats(seen, 2.0) == [ScreeningHit("赌博", "frame", "请勿赌博", 2, 0.95)]


def test_caption_that_comes_back_later_is_a_new_hit() -> None:
    seen = [ScreeningHit("赌博", "frame", "请勿赌博", t, 0.9) for t in (2.0, 4.0, 10.0)]
    assert [h.time_s for h in merge_repeats(seen, 2.0)] == [2.0, 10.0]


def test_different_lines_with_the_same_word_stay_apart() -> None:
    seen = [
        ScreeningHit("赌博", "frame", "请勿赌博", 2.0, 0.9),
        ScreeningHit("赌博", "frame", "远离赌博", 2.0, 0.9),
    ]
    assert merge_repeats(seen, 2.0) == seen


def test_untimed_hits_are_never_merged() -> None:
    seen = [ScreeningHit("赌博", "text", "赌博", None, None)] * 2
    assert merge_repeats(seen, 2.0) == seen
