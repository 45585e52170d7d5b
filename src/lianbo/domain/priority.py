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

import itertools
from dataclasses import dataclass
from datetime import datetime

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
    """A gap-free, non-overlapping timeline covering ``[start, end)``."""
    if end <= start:
        return []
    edges = {start, end}
    for claim in claims:
        for a, b in claim.intervals:
            if a < end and b > start:
                edges.update((max(a, start), min(b, end)))
    points = sorted(edges)
    slots: list[Slot] = []
    for a, b in itertools.pairwise(points):
        live = [c for c in claims if any(x <= a and b <= y for x, y in c.intervals)]
        live.sort(key=Claim.key, reverse=True)
        winner = live[0] if live else None
        reason = explain(winner, live[1] if len(live) > 1 else None)
        if slots and slots[-1].claim == winner and slots[-1].end == a:
            slots[-1] = Slot(slots[-1].start, b, winner, slots[-1].reason)
        else:
            slots.append(Slot(a, b, winner, reason))
    return slots


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
