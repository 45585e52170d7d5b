"""Which screens a target reaches, and how specifically.

Terminals that share targeting facts (region, tier, groups, tags) always
get the same programme, so everything here works on ``Audience`` — one
computation per distinct audience, however many screens share it.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from lianbo.domain.canonical import canonical_json
from lianbo.domain.regions import ancestors, level_of
from lianbo.domain.schedules import Schedule, Targets
from lianbo.domain.terminals import Terminal, Tier


@dataclass(frozen=True, slots=True)
class Audience:
    """The facts a programme depends on; equal facts, equal manifest."""

    region: str
    tier: Tier
    groups: tuple[str, ...]
    tags: tuple[str, ...]

    @classmethod
    def of(cls, terminal: Terminal) -> Audience:
        return cls(
            terminal.region,
            terminal.tier,
            tuple(sorted(terminal.groups)),
            tuple(sorted(terminal.tags)),
        )

    def key(self) -> str:
        """A stable id for this audience (the manifest group key)."""
        return hashlib.sha256(canonical_json(self.as_json())).hexdigest()[:32]

    def as_json(self) -> dict[str, object]:
        return {
            "region": self.region,
            "tier": self.tier.value,
            "groups": list(self.groups),
            "tags": list(self.tags),
        }


def specificity(targets: Targets, audience: Audience) -> int:
    """Level (1..5) of the most specific target region containing the
    audience, or 0 when the target does not reach it at all."""
    if targets.tiers and audience.tier not in targets.tiers:
        return 0
    if targets.groups and not set(targets.groups) & set(audience.groups):
        return 0
    if targets.tags and not set(targets.tags) & set(audience.tags):
        return 0
    levels = [level_of(r) for r in targets.regions if audience.region.startswith(r)]
    return max(levels, default=0)


class ScheduleIndex:
    """Schedules by target region, so matching an audience looks up its
    region's ancestors (at most five keys) instead of scanning them all."""

    def __init__(self, schedules: Iterable[Schedule]) -> None:
        self._by_region: dict[str, list[Schedule]] = defaultdict(list)
        for schedule in schedules:
            for region in set(schedule.targets.regions):
                self._by_region[region].append(schedule)

    def candidates(self, audience: Audience) -> list[Schedule]:
        seen: dict[str, Schedule] = {}
        for prefix in [*ancestors(audience.region), audience.region]:
            for schedule in self._by_region.get(prefix, ()):
                seen[schedule.id] = schedule
        return list(seen.values())
