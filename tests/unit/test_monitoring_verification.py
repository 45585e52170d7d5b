"""Screenshot verdict rules over hand-made 64-bit hashes."""

from __future__ import annotations

from lianbo.domain.monitoring.verification import (
    MATCH_MAX,
    MISMATCH_MIN,
    Expected,
    Shot,
    Verdict,
    between,
    changed,
    hamming,
    is_frozen,
    nearest,
    offset_into,
    verify,
    window,
)

A = 0x0123_4567_89AB_CDEF
B = A ^ ((1 << 32) - 1)  # 32 bits away from A
C = A ^ (((1 << 32) - 1) << 32)  # 32 bits away from A and from B? (64 from B)


def flip(value: int, bits: int) -> int:
    """``value`` with its lowest ``bits`` bits flipped."""
    return value ^ ((1 << bits) - 1)


TRACK = [A, A, B, C, B, A]


def test_hamming_counts_differing_bits() -> None:
    assert hamming(A, A) == 0
    assert hamming(A, flip(A, 5)) == 5
    assert hamming(0, (1 << 64) - 1) == 64


def test_window_is_two_seconds_each_side_clamped_to_track() -> None:
    assert list(window(TRACK, 2.5)) == [0, 1, 2, 3, 4]
    assert list(window(TRACK, 0.0)) == [0, 1, 2]
    assert list(window(TRACK, 99.0)) == [5]
    assert list(window([], 1.0)) == []


def test_nearest_prefers_closest_in_time_on_ties() -> None:
    assert nearest([A], TRACK, 4.0) == (0, 5)
    assert nearest([A], TRACK, 1.0) == (0, 1)


def test_match_within_threshold() -> None:
    shot = Shot(flip(B, MATCH_MAX))
    result = verify(shot, Expected(TRACK, 2.0))
    assert result.verdict is Verdict.MATCH
    assert result.distance == MATCH_MAX
    assert result.at_s == 2.0
    assert not result.alarming


def test_match_through_an_alternate_hash() -> None:
    shot = Shot(flip(B, 30) ^ (1 << 63), alternates=(flip(C, 3),))
    assert verify(shot, Expected(TRACK, 3.0)).verdict is Verdict.MATCH


def test_content_outside_the_window_is_a_mismatch() -> None:
    far = [A] * 10 + [B]
    result = verify(Shot(B), Expected(far, 2.0))
    assert result.verdict is Verdict.MISMATCH
    assert result.alarming


def test_grey_zone_is_unknown_not_an_alarm() -> None:
    result = verify(Shot(flip(A, MISMATCH_MIN - 2)), Expected([A], 0.0))
    assert result.verdict is Verdict.UNKNOWN
    assert not result.alarming


def test_no_expected_content_is_unknown() -> None:
    assert verify(Shot(A), None).verdict is Verdict.UNKNOWN
    assert verify(Shot(A), Expected([], 0.0)).verdict is Verdict.UNKNOWN


def test_black_is_an_alarm_unless_the_content_is_black_there() -> None:
    black = Shot(A, black=True)
    assert verify(black, Expected(TRACK, 1.0)).alarming
    designed = verify(black, Expected(TRACK, 1.0, black=[(0.5, 1.5)]))
    assert designed.verdict is Verdict.BLACK
    assert designed.expected
    assert not designed.alarming


def test_frozen_needs_an_unchanged_screen_and_changing_content() -> None:
    assert is_frozen(A, flip(A, 2), [A, B])
    assert not is_frozen(A, flip(A, 2), [A, flip(A, 4)])  # content still
    assert not is_frozen(A, B, [A, B])  # screen changed
    assert not is_frozen(None, A, [A, B])  # no previous shot


def test_changed_compares_against_the_first_entry() -> None:
    assert not changed([A])
    assert changed([A, A, B])


def test_frozen_verdict_when_the_screen_holds_an_old_picture() -> None:
    track = [C] * 5 + [B] * 5
    result = verify(Shot(flip(A, 1)), Expected(track, 8.0), previous=A, since=[C, B])
    assert result.verdict is Verdict.FROZEN
    assert result.alarming


def test_frozen_by_design_is_not_an_alarm() -> None:
    track = [C] * 5 + [B] * 5
    expected = Expected(track, 8.0, still=[(6.0, 10.0)])
    result = verify(Shot(flip(A, 1)), expected, previous=A, since=[C, B])
    assert result.verdict is Verdict.FROZEN
    assert not result.alarming


def test_match_wins_over_frozen() -> None:
    result = verify(Shot(A), Expected([A, B], 0.0), previous=A, since=[A, B])
    assert result.verdict is Verdict.MATCH


def test_offset_into_wraps_a_looping_video_and_pins_images() -> None:
    assert offset_into(12_500, 10.0) == 2.5
    assert offset_into(4_000, 10.0) == 4.0
    assert offset_into(4_000, None) == 0.0


def test_between_takes_the_entries_spanned_by_two_shots() -> None:
    assert between(TRACK, 1.2, 3.9) == [A, B, C]
    assert between(TRACK, 4.0, 99.0) == [B, A]
    assert between(TRACK, 3.0, 1.0) == []
    assert between([], 0.0, 1.0) == []
