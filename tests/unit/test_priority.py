"""Priority resolution: examples, then properties (hypothesis)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from lianbo.domain.priority import Claim, resolve
from lianbo.domain.schedules import RANK, SCHEDULABLE, PriorityClass

T0 = datetime(2026, 11, 23, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def claim(sid: str, cls: PriorityClass, spec: int, pub: int, *spans: tuple[int, int]) -> Claim:
    return Claim(sid, cls, spec, at(pub), tuple((at(a), at(b)) for a, b in spans))


def test_class_beats_specificity_beats_publication() -> None:
    local_village = claim("v", PriorityClass.LOCAL, 5, 0, (0, 60))
    public_province = claim("p", PriorityClass.PUBLIC, 1, 0, (10, 20))
    local_county_late = claim("c", PriorityClass.LOCAL, 3, 50, (30, 40))
    local_village_late = claim("v2", PriorityClass.LOCAL, 5, 9, (45, 50))
    slots = resolve(
        at(0), at(60), [local_village, public_province, local_county_late, local_village_late]
    )
    owners = [(s.claim.schedule_id if s.claim else None, s.start, s.end) for s in slots]
    assert owners == [
        ("v", at(0), at(10)),
        ("p", at(10), at(20)),
        ("v", at(20), at(45)),
        ("v2", at(45), at(50)),
        ("v", at(50), at(60)),
    ]
    reasons = {s.claim.schedule_id: s.reason for s in slots if s.claim}
    assert reasons["p"] == "public outranks local"
    assert reasons["v2"] == "same class and target level: published later"


def test_gaps_go_to_the_filler() -> None:
    slots = resolve(at(0), at(30), [claim("a", PriorityClass.LOCAL, 3, 0, (10, 20))])
    assert [(s.claim is None, s.start, s.end) for s in slots] == [
        (True, at(0), at(10)),
        (False, at(10), at(20)),
        (True, at(20), at(30)),
    ]
    assert slots[0].reason == "nothing scheduled: tier default filler"


spans = st.lists(
    st.tuples(st.integers(0, 300), st.integers(1, 120)).map(lambda t: (t[0], t[0] + t[1])),
    min_size=1,
    max_size=3,
)
claims = st.lists(
    st.builds(
        lambda i, cls, spec, pub, ss: claim(f"s{i}", cls, spec, pub, *ss),
        st.integers(0, 10_000),
        st.sampled_from(SCHEDULABLE),
        st.integers(1, 5),
        st.integers(0, 50),
        spans,
    ),
    max_size=8,
    unique_by=lambda c: c.schedule_id,
)


@settings(max_examples=300, deadline=None)
@given(claims, st.integers(0, 200), st.integers(1, 300))
def test_timeline_properties(cs: list[Claim], start: int, length: int) -> None:
    lo, hi = at(start), at(start + length)
    slots = resolve(lo, hi, cs)
    # Covers the horizon without gaps or overlaps.
    assert slots[0].start == lo and slots[-1].end == hi
    assert all(a.end == b.start for a, b in itertools.pairwise(slots))
    assert all(s.start < s.end for s in slots)
    # Deterministic: input order does not matter.
    assert resolve(lo, hi, list(reversed(cs))) == slots
    # At every minute: a higher class is never hidden by a lower one, the
    # winner is on air, and the filler plays only when nothing is.
    for minute in range(start, start + length):
        t = at(minute)
        owner = next(s for s in slots if s.start <= t < s.end).claim
        on_air = [c for c in cs if any(a <= t < b for a, b in c.intervals)]
        if owner is None:
            assert on_air == []
            continue
        assert owner in on_air
        assert owner.key() == max(c.key() for c in on_air)
        assert RANK[owner.priority] == max(RANK[c.priority] for c in on_air)
