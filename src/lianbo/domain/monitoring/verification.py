"""Is the screen showing what it should? Rules over 64-bit pHashes.

A screenshot's pHash is compared by Hamming distance with the expected
asset's track entries within ``WINDOW_S`` seconds of the expected offset
(the terminal clock, the capture and the one-per-second track all add
slack). A ticker running over the picture moves the full-frame hash by
12–32 bits, so the track also holds, per second, the hash of the picture
without its bottom band and without its top band (12 % of the height,
``Tracks``); the screenshot's matching crops are compared with those, and
the region with the most room under its threshold decides. Tracks stored
before the crops existed hold the full frame only and are compared as
before. Thresholds were measured with ``bench/monitoring_core.py`` (318
synthetic contents from four generators, 5,724 framebuffer-like shots:
1080p/720p, brightness 0.7/1.0/1.3, no ticker / a ticker band over the
bottom 10 % / over the top 10 %, JPEG q50; 100,806 different-content pairs):

- ``MATCH_MAX = 10`` (full frame) and ``BAND_MATCH_MAX = 10`` (crops): the
  closest different-content pair was at 12 in both (pHash distances are
  even: the median splits the 64 bits 32/32), so 10 is the largest
  threshold with zero false matches. Recall there: 99.5 % without a ticker,
  99.3 % with one at the bottom, 99.4 % at the top (full frame only: 99.4,
  82.7 and 46.0 %; shots hashed from their 1/8-scale JPEG decode, tracks
  from 256 px wide frames). Most misses are three blank slides whose hash
  is noise. Excluded from the zero: text slides of one layout (plain
  background, lines at the same places) share their pHash whatever the
  words — 22 of 6,162 such pairs matched.
  pHash cannot tell them apart; a slide hijack of the same layout is not
  seen, nor is a hijack confined to the 12 % band at the bottom or top
  (the price of ticker-proof matching).
- ``MISMATCH_MIN = 22`` (full frame) and ``BAND_MISMATCH_MIN = 18``
  (crops): mismatch needs every compared region at or past its threshold.
  Shots of the right content never have both crops farther than 12 bits
  (apart from the three blank slides, 0.5 % of shots, far from everything;
  with the full frame alone 3.2 % were mismatches); 99.1 % of (shot, other
  content) pairs are mismatches. Distances in between are
  ``unknown`` (no alarm, no proof), and the content-mismatch alarm wants
  two mismatches in a row.
- ``SAME_MAX = 6``: two screenshots this close show the same picture
  (JPEG noise between two captures of a still screen stays ≤ 4); with whole
  ``Shot``s the band-free pictures count too (``same_picture``).
- ``CHANGED_MIN = 19``: expected content "changed" between two shots when
  its track entries in between differ by that much (content-to-content
  distances are ≥ 12, nearly all ≥ 20).

Black is measured by the adapter (luma statistics, not the hash: a black
picture's hash is noise). Black or frozen are reported with ``expected``
True when the asset itself is black or still there (its QC segments), and
such verdicts raise no alarm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from lianbo.domain.monitoring.tracks import read_tracks

WINDOW_S = 2
MATCH_MAX = 10
MISMATCH_MIN = 22
SAME_MAX = 6
CHANGED_MIN = 19
BAND_MATCH_MAX = 10
BAND_MISMATCH_MIN = 18

FULL, ABOVE, BELOW = "full", "above", "below"


class Verdict(StrEnum):
    """What a screenshot shows compared with what should be on screen."""

    MATCH = "match"
    MISMATCH = "mismatch"
    BLACK = "black"
    FROZEN = "frozen"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Shot:
    """Measurements of one screenshot: its pHash and whether it is black.

    ``alternates`` are hashes of the same shot with likely overlays (a
    ticker band) masked; a match with any of them counts. ``above`` and
    ``below`` are the pHashes of the picture without its bottom / top band
    (``Tracks``), None when not measured.
    """

    phash: int
    black: bool = False
    alternates: tuple[int, ...] = ()
    above: int | None = None
    below: int | None = None


@dataclass(frozen=True, slots=True)
class Expected:
    """What should be on screen: the asset's track, offset and still runs.

    ``black`` and ``still`` are (start_s, end_s) runs of the asset that are
    black or frozen by design (its QC segments).
    """

    track: Sequence[int]
    offset_s: float
    black: Sequence[tuple[float, float]] = ()
    still: Sequence[tuple[float, float]] = ()
    above: Sequence[int] = ()
    below: Sequence[int] = ()

    @classmethod
    def stored(
        cls,
        blob: bytes,
        offset_s: float,
        black: Sequence[tuple[float, float]] = (),
        still: Sequence[tuple[float, float]] = (),
    ) -> Expected:
        """What should be on screen, from an asset's stored track ``blob`` (any version)."""
        tracks = read_tracks(blob)
        return cls(tracks.full, offset_s, black, still, tracks.above, tracks.below)


@dataclass(frozen=True, slots=True)
class Verification:
    """The verdict plus its evidence.

    ``distance`` is the smallest Hamming distance to the track window and
    ``at_s`` the offset of that entry; ``region`` says which picture gave
    that distance (``full``, or ``above`` / ``below`` a band); ``expected``
    is True when black or frozen is what the content itself shows, so no
    alarm is due.
    """

    verdict: Verdict
    distance: int | None = None
    at_s: float | None = None
    expected: bool = False
    region: str = FULL

    @property
    def alarming(self) -> bool:
        """True when this verdict is evidence for an alarm."""
        return (
            self.verdict is not Verdict.MATCH
            and not self.expected
            and (self.verdict is not Verdict.UNKNOWN)
        )


def hamming(a: int, b: int) -> int:
    """Number of differing bits of two 64-bit hashes."""
    return (a ^ b).bit_count()


def window(track: Sequence[int], offset_s: float, slack_s: float = WINDOW_S) -> range:
    """Indices of the track entries within ``slack_s`` of ``offset_s``."""
    if not track:
        return range(0)
    centre = min(max(int(offset_s), 0), len(track) - 1)
    low = max(0, int(offset_s - slack_s))
    high = min(len(track), int(offset_s + slack_s) + 1)
    return range(min(low, centre), max(high, centre + 1))


def nearest(hashes: Sequence[int], track: Sequence[int], offset_s: float) -> tuple[int, int] | None:
    """(distance, index) of the closest track entry in the window to any of ``hashes``.

    Ties go to the entry nearest in time.
    """
    best: tuple[int, float, int] | None = None
    for index in window(track, offset_s):
        distance = min(hamming(phash, track[index]) for phash in hashes)
        key = (distance, abs(index - offset_s), index)
        best = key if best is None or key < best else best
    return None if best is None else (best[0], best[2])


def offset_into(item_offset_ms: int, duration_s: float | None) -> float:
    """Seconds into the asset ``item_offset_ms`` into its playlist item.

    An item longer than its video loops it (the player's behaviour), so the
    offset wraps at the asset's duration; images (``None``/0) stay at 0.
    """
    if not duration_s or duration_s <= 0:
        return 0.0
    return (item_offset_ms / 1000) % duration_s


def between(track: Sequence[int], start_s: float, end_s: float) -> list[int]:
    """Track entries from ``start_s`` to ``end_s`` (both included), for ``is_frozen``."""
    if not track or end_s < start_s:
        return []
    low = min(max(int(start_s), 0), len(track) - 1)
    high = min(max(int(end_s), 0), len(track) - 1)
    return list(track[low : high + 1])


def changed(hashes: Sequence[int]) -> bool:
    """True when the expected pictures in ``hashes`` are not all the same picture."""
    return any(hamming(hashes[0], other) >= CHANGED_MIN for other in hashes[1:])


def same_picture(previous: int | Shot, current: int | Shot) -> bool:
    """Two screenshots show the same picture (JPEG noise apart).

    With two ``Shot``s the band-free pictures count too: a ticker running
    over a held picture moves the full-frame hash by up to 18 bits between
    two captures, the picture above / below it by none.
    """
    if isinstance(previous, Shot) and isinstance(current, Shot):
        pairs = [(previous.phash, current.phash)]
        pairs += [
            (a, b)
            for a, b in ((previous.above, current.above), (previous.below, current.below))
            if a is not None and b is not None
        ]
        return any(hamming(a, b) <= SAME_MAX for a, b in pairs)
    first = previous.phash if isinstance(previous, Shot) else previous
    second = current.phash if isinstance(current, Shot) else current
    return hamming(first, second) <= SAME_MAX


def is_frozen(previous: int | Shot | None, current: int | Shot, expected: Sequence[int]) -> bool:
    """The screen held its picture while the expected content changed.

    ``previous`` and ``current`` are the two shots (or their full-frame
    hashes); ``expected`` are the track entries between the previous shot
    and this one (both ends included). A pure function of the three, as the
    rule is.
    """
    return previous is not None and same_picture(previous, current) and changed(expected)


def _inside(runs: Sequence[tuple[float, float]], offset_s: float) -> bool:
    return any(start - WINDOW_S <= offset_s < end + WINDOW_S for start, end in runs)


Compared = tuple[str, int, int]  # (region, distance, track index)


def compared(shot: Shot, expected: Expected) -> list[Compared]:
    """(region, distance, index) of every comparison the shot and track allow.

    The full frame (with alternates) is always compared; the pictures above
    and below a ticker band when both the shot and the track have them.
    """
    found = nearest((shot.phash, *shot.alternates), expected.track, expected.offset_s)
    results: list[Compared] = [(FULL, *(found if found is not None else (64, 0)))]
    for region, hashed, track in (
        (ABOVE, shot.above, expected.above),
        (BELOW, shot.below, expected.below),
    ):
        if hashed is None or len(track) != len(expected.track):
            continue  # a track stored before band crops, or a shot without them
        cropped = nearest((hashed,), track, expected.offset_s)
        if cropped is not None:
            results.append((region, *cropped))
    return results


def _match_max(region: str) -> int:
    return MATCH_MAX if region == FULL else BAND_MATCH_MAX


def _mismatch_min(region: str) -> int:
    return MISMATCH_MIN if region == FULL else BAND_MISMATCH_MIN


def _best(results: Sequence[Compared]) -> Compared:
    """The comparison with the most room under its own match threshold (full wins ties)."""
    return max(results, key=lambda r: (_match_max(r[0]) - r[1], r[0] == FULL))


def verify(
    shot: Shot,
    expected: Expected | None,
    previous: int | Shot | None = None,
    since: Sequence[int] = (),
) -> Verification:
    """Judge ``shot`` against ``expected`` (None: nothing known should play).

    ``previous`` is the terminal's previous screenshot (its ``Shot``, or just
    its full-frame hash: then a running ticker can hide a frozen screen) and
    ``since`` the expected track entries from that shot's time to now, for
    frozen.
    Order: black, match, frozen, then mismatch / unknown by distance. The
    full frame and, where stored, the pictures above / below a ticker band
    are compared; the closest (by each one's threshold) decides, so a
    mismatch means every region is far from the expected content.
    """
    if expected is None or not expected.track:
        if shot.black:
            return Verification(Verdict.BLACK)
        return Verification(Verdict.UNKNOWN)
    if shot.black:
        return Verification(Verdict.BLACK, expected=_inside(expected.black, expected.offset_s))
    results = compared(shot, expected)
    region, distance, index = _best(results)
    at = float(index)
    if distance <= _match_max(region):
        return Verification(Verdict.MATCH, distance, at, region=region)
    if is_frozen(previous, shot, since):
        still = _inside(expected.still, expected.offset_s)
        return Verification(Verdict.FROZEN, distance, at, expected=still, region=region)
    far = all(d >= _mismatch_min(r) for r, d, _ in results)
    return Verification(Verdict.MISMATCH if far else Verdict.UNKNOWN, distance, at, region=region)
