"""Screenshot verdict rules over hand-made 64-bit hashes."""

from __future__ import annotations

import pytest

from lianbo.domain.monitoring.tracks import Tracks, pack_tracks, read_tracks
from lianbo.domain.monitoring.verification import (
    ABOVE,
    BAND_MATCH_MAX,
    BAND_MISMATCH_MIN,
    BELOW,
    FULL,
    MATCH_MAX,
    MISMATCH_MIN,
    Expected,
    Shot,
    Verdict,
    between,
    changed,
    compared,
    hamming,
    is_frozen,
    nearest,
    offset_into,
    same_picture,
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


# Band crops: the picture above / below a ticker band has its own track.

ABOVE_TRACK = [flip(A, 40), flip(B, 40), flip(C, 40)]
BELOW_TRACK = [flip(A, 50) ^ (1 << 63), flip(B, 50) ^ (1 << 63), flip(C, 50) ^ (1 << 63)]
THREE = [A, B, C]


def away(value: int, bits: int) -> int:
    """``value`` with ``bits`` of its high half flipped: that far from it, farther from A and C."""
    return value ^ (((1 << bits) - 1) << 32)


def banded(offset_s: float = 1.0) -> Expected:
    return Expected(THREE, offset_s, above=ABOVE_TRACK, below=BELOW_TRACK)


def test_ticker_over_the_bottom_matches_through_the_above_band_track() -> None:
    # The full frame is in the grey zone (a ticker moved it), the crop is close.
    shot = Shot(away(B, 16), above=flip(ABOVE_TRACK[1], BAND_MATCH_MAX), below=0)
    result = verify(shot, banded())
    assert result.verdict is Verdict.MATCH
    assert result.region == ABOVE
    assert result.distance == BAND_MATCH_MAX
    assert result.at_s == 1.0
    assert not result.alarming


def test_ticker_over_the_top_matches_through_the_below_band_track() -> None:
    shot = Shot(away(B, 30), above=0, below=flip(BELOW_TRACK[1], 4))
    result = verify(shot, banded())
    assert (result.verdict, result.region, result.distance) == (Verdict.MATCH, BELOW, 4)


def test_full_frame_wins_when_it_has_more_room() -> None:
    shot = Shot(flip(B, 2), above=flip(ABOVE_TRACK[1], 6), below=flip(BELOW_TRACK[1], 6))
    result = verify(shot, banded())
    assert (result.verdict, result.region, result.distance) == (Verdict.MATCH, FULL, 2)


def test_crop_just_past_its_threshold_is_not_a_match() -> None:
    shot = Shot(away(B, 16), above=flip(ABOVE_TRACK[1], BAND_MATCH_MAX + 1), below=0)
    assert verify(shot, banded()).verdict is Verdict.UNKNOWN


def test_mismatch_needs_every_region_far() -> None:
    far = Shot(away(B, 32), above=flip(ABOVE_TRACK[1], 32), below=flip(BELOW_TRACK[1], 32))
    result = verify(far, Expected([B], 0.0, above=[ABOVE_TRACK[1]], below=[BELOW_TRACK[1]]))
    assert result.verdict is Verdict.MISMATCH
    assert result.alarming
    near_band = Shot(far.phash, above=flip(ABOVE_TRACK[1], BAND_MISMATCH_MIN - 2), below=far.below)
    expected = Expected([B], 0.0, above=[ABOVE_TRACK[1]], below=[BELOW_TRACK[1]])
    assert verify(near_band, expected).verdict is Verdict.UNKNOWN


def test_old_track_without_crops_compares_the_full_frame_only() -> None:
    shot = Shot(away(B, 16), above=ABOVE_TRACK[1], below=BELOW_TRACK[1])
    result = verify(shot, Expected(THREE, 1.0))
    assert result.verdict is Verdict.UNKNOWN
    assert result.region == FULL


def test_shot_without_crops_compares_the_full_frame_only() -> None:
    assert verify(Shot(away(B, 16)), banded()).verdict is Verdict.UNKNOWN
    assert verify(Shot(flip(B, 4)), banded()).verdict is Verdict.MATCH


def test_crop_tracks_of_another_length_are_ignored() -> None:
    shot = Shot(away(B, 16), above=ABOVE_TRACK[1])
    expected = Expected(THREE, 1.0, above=ABOVE_TRACK[:2], below=BELOW_TRACK)
    assert verify(shot, expected).verdict is Verdict.UNKNOWN


def test_compared_lists_each_region() -> None:
    shot = Shot(B, above=ABOVE_TRACK[2], below=BELOW_TRACK[0])
    assert compared(shot, banded()) == [(FULL, 0, 1), (ABOVE, 0, 2), (BELOW, 0, 0)]


# Stored tracks: version 2 carries three planes, version 1 the full frame only.


def planes(*values: int) -> bytes:
    return b"".join(v.to_bytes(8, "big") for v in values)


def test_tracks_round_trip_through_the_stored_form() -> None:
    blob = pack_tracks(planes(A, B), planes(B, C), planes(C, A))
    assert len(blob) % 8 == 4
    assert read_tracks(blob) == Tracks((A, B), (B, C), (C, A))
    assert read_tracks(blob).seconds == 2


def test_a_track_stored_before_band_crops_still_reads() -> None:
    tracks = read_tracks(planes(A, B, C))
    assert tracks == Tracks((A, B, C))
    assert tracks.above == tracks.below == ()


def test_empty_and_damaged_tracks_read_as_nothing_known() -> None:
    assert read_tracks(b"") == Tracks(())
    damaged = pack_tracks(planes(A, B), planes(B, C), planes(C, A))[8:]
    assert read_tracks(damaged) == Tracks(())
    assert verify(Shot(A), Expected.stored(damaged, 0.0)).verdict is Verdict.UNKNOWN


def test_pack_refuses_planes_of_unequal_length() -> None:
    with pytest.raises(ValueError):
        pack_tracks(planes(A, B), planes(B), planes(C, A))
    with pytest.raises(ValueError):
        pack_tracks(b"\x00" * 7, b"\x00" * 7, b"\x00" * 7)


def test_expected_from_a_stored_blob_uses_every_plane() -> None:
    blob = pack_tracks(planes(*THREE), planes(*ABOVE_TRACK), planes(*BELOW_TRACK))
    expected = Expected.stored(blob, 1.0, black=[(0.0, 1.0)])
    assert list(expected.track) == THREE
    assert list(expected.above) == ABOVE_TRACK and list(expected.below) == BELOW_TRACK
    assert expected.black == [(0.0, 1.0)]
    shot = Shot(away(B, 16), above=flip(ABOVE_TRACK[1], 2))
    assert verify(shot, expected).verdict is Verdict.MATCH
    old = Expected.stored(planes(*THREE), 1.0)
    assert old.above == () and verify(shot, old).verdict is Verdict.UNKNOWN


def test_same_picture_looks_past_a_running_ticker() -> None:
    held = Shot(A, above=B, below=C)
    scrolled = Shot(flip(A, 18), above=flip(B, 2), below=flip(C, 20))
    assert same_picture(held, scrolled)
    assert not same_picture(held.phash, scrolled.phash)  # the full frame alone differs
    assert not same_picture(held, Shot(flip(A, 18), above=flip(B, 8)))
    assert same_picture(held, flip(A, 2)) and same_picture(A, Shot(flip(A, 2)))


def test_frozen_under_a_ticker_when_the_previous_shot_is_given_whole() -> None:
    track = [C] * 5 + [B] * 5
    previous = Shot(A, above=flip(A, 40))
    current = Shot(away(A, 18), above=flip(A, 41))
    assert verify(current, Expected(track, 8.0), previous=previous, since=[C, B]).verdict is (
        Verdict.FROZEN
    )
    by_hash = verify(current, Expected(track, 8.0), previous=A, since=[C, B])
    assert by_hash.verdict is Verdict.MISMATCH
