"""How many screens an alert reaches, per region and tier.

The issue answer (``POST /api/v1/alerts``, the CAP import) and the
composer's live preview both say it, so an issuer sees at once whether the
circle they drew around a town reaches that town's screens. Screens are
counted per *reach region*: the screen's region cut to county level, or to
the issuer's jurisdiction when that is deeper (a township issuer's screens
are one row, not one per village). The same cut names the region topics an
alert is published on (``services.alert_targets``), so a topic never
reaches past the jurisdiction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lianbo.domain.terminals import Tier

COUNTY = 6  # short-form length of a county code
TIERS = tuple(t.value for t in Tier)


def reach_region(region: str, jurisdiction: str) -> str:
    """The row a screen of ``region`` is counted in (and the topic it hears)."""
    return region[: max(COUNTY, len(jurisdiction))]


@dataclass(frozen=True, slots=True)
class Reach:
    """Screens targeted: reach region → tier → count (every tier listed)."""

    by_region: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    @classmethod
    def counted(cls, rows: Iterable[tuple[str, str, int]], jurisdiction: str) -> Reach:
        """From ``(screen region, tier, screens)`` rows, any grouping."""
        table: dict[str, dict[str, int]] = {}
        for region, tier, n in rows:
            tiers = table.setdefault(reach_region(region, jurisdiction), dict.fromkeys(TIERS, 0))
            tiers[tier] = tiers.get(tier, 0) + n
        return cls({code: table[code] for code in sorted(table)})

    @property
    def total(self) -> int:
        """Screens targeted in all."""
        return sum(sum(tiers.values()) for tiers in self.by_region.values())

    def by_tier(self) -> dict[str, int]:
        """Screens targeted per tier, over every region."""
        totals = dict.fromkeys(TIERS, 0)
        for tiers in self.by_region.values():
            for tier, n in tiers.items():
                totals[tier] = totals.get(tier, 0) + n
        return totals

    def rows(self) -> list[tuple[str, dict[str, int], int]]:
        """(region, screens per tier, screens) for a table, regions in order."""
        return [(code, dict(tiers), sum(tiers.values())) for code, tiers in self.by_region.items()]

    def as_json(self) -> dict[str, Any]:
        """``{"total", "by_tier": {tier: n}, "by_region": {code: {"total", tier: n}}}``."""
        return {
            "total": self.total,
            "by_tier": self.by_tier(),
            "by_region": {code: {"total": n, **tiers} for code, tiers, n in self.rows()},
        }
