"""Priority resolution: for one screen, who owns each moment.

The rule, in order:
1. priority class (emergency > public > simulcast > local > filler);
2. inside a class, the more specific target wins
   (village > township > county > city > province);
3. then the later published schedule;
4. then the schedule id, only so the answer never depends on input order.
Moments no schedule claims go to the tier's default filler (``None``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from heapq import heappop, heappush
from itertools import pairwise

from lianbo.domain.regions import LEVEL_NAMES
from lianbo.domain.schedules import RANK, PriorityClass


@dataclass(frozen=True, slots=True)
class Claim:
    """One schedule's wish for one screen: when, and how strongly."""

    schedule_id: str
    priority: PriorityClass
    specificity: int  # level (1..5) of the most specific matching target region
    published_at: datetime
    intervals: tuple[tuple[datetime, datetime], ...]

    def key(self) -> tuple[int, int, datetime, str]:
        return (RANK[self.priority], self.specificity, self.published_at, self.schedule_id)


@dataclass(frozen=True, slots=True)
class Slot:
    """A stretch of the timeline and who won it (None: the default filler)."""

    start: datetime
    end: datetime
    claim: Claim | None
    reason: str


def resolve(start: datetime, end: datetime, claims: list[Claim]) -> list[Slot]:
    """A gap-free, non-overlapping timeline covering ``[start, end)``.

    A sweep over interval edges. Claims are ranked once (0 = strongest); a
    heap of on-air ranks (stale entries dropped lazily) gives each stretch's
    winner without comparing claims again.
    """
    if end <= start:
        return []
    ranked = sorted(claims, key=Claim.key, reverse=True)
    opening: dict[datetime, list[int]] = defaultdict(list)
    closing: dict[datetime, list[int]] = defaultdict(list)
    for rank, claim in enumerate(ranked):
        for a, b in claim.intervals:
            if a < end and b > start and a < b:
                opening[max(a, start)].append(rank)
                closing[min(b, end)].append(rank)
    on_air = [0] * len(ranked)
    heap: list[int] = []
    slots: list[Slot] = []
    for a, b in pairwise(sorted({start, end, *opening, *closing})):
        for rank in closing.get(a, ()):
            on_air[rank] -= 1
        for rank in opening.get(a, ()):
            on_air[rank] += 1
            heappush(heap, rank)
        best = _top(heap, on_air)
        winner = ranked[best] if best is not None else None
        if slots and slots[-1].claim is winner:
            slots[-1] = Slot(slots[-1].start, b, winner, slots[-1].reason)
            continue
        second = _second(heap, on_air, best)
        slots.append(
            Slot(a, b, winner, explain(winner, ranked[second] if second is not None else None))
        )
    return slots


def _top(heap: list[int], on_air: list[int]) -> int | None:
    while heap and on_air[heap[0]] <= 0:
        heappop(heap)
    return heap[0] if heap else None


def _second(heap: list[int], on_air: list[int], best: int | None) -> int | None:
    """The runner-up rank (for the explanation), leaving the heap intact."""
    if best is None:
        return None
    return min((r for r in heap if r != best and on_air[r] > 0), default=None)


def explain(winner: Claim | None, runner_up: Claim | None) -> str:
    """Why the winner won, in the terms of the rule (for "what plays where")."""
    if winner is None:
        return "nothing scheduled: tier default filler"
    if runner_up is None:
        return f"only {winner.priority.value} schedule on air"
    if winner.priority != runner_up.priority:
        return f"{winner.priority.value} outranks {runner_up.priority.value}"
    if winner.specificity != runner_up.specificity:
        return (
            f"more specific target ({LEVEL_NAMES[winner.specificity - 1]} over "
            f"{LEVEL_NAMES[runner_up.specificity - 1]})"
        )
    if winner.published_at != runner_up.published_at:
        return "same class and target level: published later"
    return "tie broken by schedule id"
