"""As-run log (proof of play): batches from terminals, checked and rolled up.

Each row is judged as ``domain/monitoring/playlog.check_play`` says (the
whole batch in one pass, ``check_batch``) against the programme that was in
force for the terminal's audience at the middle of the play (the current
manifest from when it was built, a superseded one kept in
``manifest_history`` before that: ADR 0006):

- rows whose times cannot be true (in the future beyond clock slack, older
  than 7 days, ending before they start, malformed) are **rejected**: named
  by index and reason in the answer, stored nowhere; the rest of the batch is
  kept;
- a sha256 unknown to us, an asset not approved, or one the manifest did not
  allow then is stored as ``unauthorised`` and raises a critical
  ``unauthorised-content`` alarm;
- everything else is stored as ``ok``.

**Off-schedule** (documented rule): a batch covers the span from its earliest
start to its latest end. Every scheduled slot (a timeline entry with a
schedule) overlapping that span by at least ``SLOT_MIN_S`` must have at least
one ``ok`` play of one of its files overlapping it; a slot without one is a
miss. A batch with a miss is an active ``off-schedule`` observation, one
without an inactive one; the alarm rule (two in a row over 30 s) keeps one
late batch from raising it.

Rollups: each stored row adds one play and its seconds to the UTC hour it
started in, per (region, tier, asset), summed per batch before one upsert.
Raw rows are deleted after ``playlog_retention_days``; rollups stay (they
name no screen).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lianbo.adapters.db.repos.monitoring import Rollup
from lianbo.adapters.db.repos.playlog import PlayRecord
from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.errors import InvalidInput, TooLarge
from lianbo.domain.monitoring.alarms import AlarmType, Observation
from lianbo.domain.monitoring.playlog import (
    Kept,
    PlayCheck,
    check_batch,
    parse_row,
    roll_up,
)
from lianbo.domain.monitoring.records import ScreenFacts
from lianbo.protocol.reports import PLAYLOG_BATCH_MAX
from lianbo.services.alarms import observation
from lianbo.services.programme import Programme
from lianbo.services.programme_history import InForce, ManifestHistory, allowed_by

__all__ = [
    "Assessed",
    "Outcome",
    "allowed_by",
    "assess",
    "entries_of",
    "judge",
    "off_schedule",
    "parse_row",
]

SLOT_MIN_S = 60.0


@dataclass
class Outcome:
    """What became of a batch."""

    accepted: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {index, reason}
    unauthorised: list[dict[str, Any]] = field(default_factory=list)  # {index, sha256, reason}
    observations: list[Observation] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "rejected": self.rejected,
            "unauthorised": self.unauthorised,
        }


def entries_of(body: Any) -> list[Any]:
    """The ``entries`` list of a request body, or InvalidInput / TooLarge."""
    if not isinstance(body, dict) or not isinstance(body.get("entries"), list):
        raise InvalidInput('a play log is {"entries": [...]}', field="entries")
    entries: list[Any] = body["entries"]
    if len(entries) > PLAYLOG_BATCH_MAX:
        raise TooLarge(f"at most {PLAYLOG_BATCH_MAX} entries per play log", field="entries")
    return entries


def judge(
    raw_entries: Sequence[Any],
    plan: Programme | InForce | None,
    content: dict[str, tuple[str, bool]],
    now: datetime,
) -> tuple[list[Kept], list[dict[str, Any]]]:
    """(kept rows with their check and reason, rejected {index, reason})."""
    approved = {s for s, (_, ok) in content.items() if ok}
    return check_batch(raw_entries, allowed_by(plan), approved, set(content), now)


def off_schedule(rows: Sequence[Kept], plan: Programme | InForce | None) -> list[dict[str, Any]]:
    """Scheduled slots in the covered span with no ``ok`` play (see module doc);
    each part of the span by the version in force then."""
    in_force = plan if isinstance(plan, InForce) else InForce(plan)
    if in_force.current is None or not rows:
        return []
    start = min(r.started_at for _, r, _, _ in rows)
    end = max(r.ended_at for _, r, _, _ in rows)
    played = [r for _, r, check, _ in rows if check is PlayCheck.OK]
    missed = []
    for entry, shas in in_force.slots(start, end):
        low, high = max(start, entry.start), min(end, entry.end)
        if (high - low).total_seconds() < SLOT_MIN_S:
            continue
        if not any(r.sha256 in shas and r.started_at < high and r.ended_at > low for r in played):
            missed.append(
                {"schedule_id": entry.schedule_id, "from": low.isoformat(), "to": high.isoformat()}
            )
    return missed


def _records(
    screen: ScreenFacts, kept: Sequence[Kept], asset_of: dict[str, str], now: datetime
) -> list[PlayRecord]:
    return [
        (
            screen.id,
            row.sha256,
            asset_of.get(row.sha256),
            row.schedule_id,
            row.started_at,
            row.ended_at,
            now,
            check.value,
        )
        for _, row, check, _ in kept
    ]


@dataclass
class Assessed:
    """A checked batch: the answer, and what to write for it."""

    outcome: Outcome
    records: list[PlayRecord]
    rollups: list[Rollup]


async def assess(
    uow: UnitOfWork,
    screen: ScreenFacts,
    programme: Programme | None,
    raw_entries: Sequence[Any],
    now: datetime,
    *,
    history: tuple[ManifestHistory, str] | None = None,
) -> Assessed:
    """Check one batch from ``screen``: the outcome (with its alarm observations),
    the rows to store and the rollups to add. Reads only; ``PlayWrites``
    writes them (group commits).

    ``history`` (the process's kept versions, the screen's audience key)
    judges rows before the current manifest came into force by the version
    in force then; without it, by the current one."""
    shas = {r.get("sha256") for r in raw_entries if isinstance(r, dict)}
    facts = await uow.monitoring.content([s for s in shas if isinstance(s, str)])
    content = {s: (f.asset_id, f.approved) for s, f in facts.items()}
    in_force = history[0].in_force(history[1], programme) if history is not None else None
    plan = in_force or programme
    kept, rejected = judge(raw_entries, plan, content, now)
    if history is not None and in_force is not None and in_force.since is not None:
        earliest = min((row.started_at for _, row, _, _ in kept), default=in_force.since)
        if in_force.missing(earliest):  # rows reach back further than loaded: judge again
            plan = await history[0].reaching(uow, history[1], programme, earliest)
            kept, rejected = judge(raw_entries, plan, content, now)
    outcome = Outcome(accepted=len(kept), rejected=rejected)
    outcome.unauthorised = [
        {"index": index, "sha256": row.sha256, "reason": reason}
        for index, row, check, reason in kept
        if check is PlayCheck.UNAUTHORISED
    ]
    asset_of = {s: f.asset_id for s, f in facts.items()}
    totals = roll_up((row for _, row, _, _ in kept), asset_of)
    rollups: list[Rollup] = [
        (hour, screen.region, screen.tier, key, plays, seconds)
        for (hour, key), (plays, seconds) in sorted(totals.items())
    ]
    outcome.observations = _observations(screen, outcome, off_schedule(kept, plan), kept)
    return Assessed(outcome, _records(screen, kept, asset_of, now), rollups)


def _observations(
    screen: ScreenFacts,
    outcome: Outcome,
    missed: list[dict[str, Any]],
    kept: Sequence[Any],
) -> list[Observation]:
    found = []
    if outcome.unauthorised:
        first = outcome.unauthorised[0]
        found.append(
            observation(
                screen.id,
                AlarmType.UNAUTHORISED_CONTENT,
                True,
                screen.tier,
                {
                    "sha256": first["sha256"],
                    "reason": first["reason"],
                    "rows": len(outcome.unauthorised),
                },
            )
        )
    elif kept:
        found.append(observation(screen.id, AlarmType.UNAUTHORISED_CONTENT, False, screen.tier))
    if kept:
        evidence = {"missed": missed[:10]} if missed else {}
        found.append(
            observation(screen.id, AlarmType.OFF_SCHEDULE, bool(missed), screen.tier, evidence)
        )
    return found


# ----------------------------------------------------------------- reports

REPORT_MAX = timedelta(days=400)


def child_prefix(code: str, region: str) -> str:
    """``code`` cut to the level just below ``region`` (province → city → county ...)."""
    below = {0: 2, 2: 4, 4: 6, 6: 9, 9: 12}.get(len(region), len(region))
    return code[:below]


def report_span(start: datetime, end: datetime) -> None:
    if end <= start:
        raise InvalidInput("to must be after from", field="to")
    if end - start > REPORT_MAX:
        raise InvalidInput("a report spans at most 400 days", field="from")


async def plays_report(
    uow: UnitOfWork, within: str, region: str, start: datetime, end: datetime, by: str
) -> list[dict[str, Any]]:
    """Plays and seconds on air per asset or per child region (hourly rollups)."""
    report_span(start, end)
    rows = await uow.monitoring.plays(
        start, end, within, region, "asset" if by == "asset" else "region"
    )
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    tiers: dict[str, dict[str, int]] = defaultdict(dict)
    for key, tier, plays, seconds in rows:
        name = key if by == "asset" else child_prefix(key, region or within)
        totals[name][0] += plays
        totals[name][1] += seconds
        tiers[name][tier] = tiers[name].get(tier, 0) + plays
    names = await _names(uow, list(totals), by)
    return [
        {
            "key": key,
            **names.get(key, {"name": ""}),  # an asset deleted since it played
            "plays": int(p),
            "seconds": round(s, 1),
            "by_tier": tiers[key],
        }
        for key, (p, s) in sorted(totals.items(), key=lambda kv: -kv[1][0])
    ]


async def _names(uow: UnitOfWork, keys: list[str], by: str) -> dict[str, dict[str, str]]:
    """Per key, the fields naming it: an asset's name, or a region's name and
    full name as the region tree holds them (a code the tree lacks names itself)."""
    if by == "asset":
        assets = await uow.monitoring.asset_names(keys)
        return {key: {"name": name} for key, name in assets.items()}
    regions = await uow.regions.many(keys)
    return {
        key: {
            "name": regions[key].name if key in regions else key,
            "full_name": regions[key].full_name if key in regions else key,
        }
        for key in keys
    }
