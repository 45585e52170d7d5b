"""As-run log (proof of play): batches from terminals, checked and rolled up.

Each row is judged by ``domain/monitoring/playlog.check_play`` against the
terminal's programme at the middle of the play:

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

Rollups: each stored row adds one play and its seconds to the hour it
started in, per (region, tier, asset). Raw rows are deleted after
``playlog_retention_days``; rollups stay (they name no screen).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lianbo.adapters.db.repos.monitoring import ScreenFacts
from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.errors import InvalidInput, TooLarge
from lianbo.domain.monitoring.alarms import AlarmType, Observation
from lianbo.domain.monitoring.playlog import PlayCheck, PlayRow, check_play
from lianbo.protocol.reports import PLAYLOG_BATCH_MAX
from lianbo.services.alarms import observation
from lianbo.services.programme import Programme

SLOT_MIN_S = 60.0
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


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


def parse_row(raw: Any) -> PlayRow:
    """One entry as a ``PlayRow``; ValueError names what is wrong."""
    if not isinstance(raw, dict):
        raise ValueError("not an object")
    sha256 = raw.get("sha256")
    if not isinstance(sha256, str) or not _SHA256.match(sha256):
        raise ValueError("sha256 is not 64 lowercase hex digits")
    schedule_id = raw.get("schedule_id")
    if schedule_id is not None and (not isinstance(schedule_id, str) or len(schedule_id) > 32):
        raise ValueError("schedule_id is not a schedule id")
    times = []
    for name in ("started_at", "ended_at"):
        value = raw.get(name)
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise ValueError(f"{name} is not an RFC 3339 time with offset")
        times.append(moment)
    return PlayRow(sha256, schedule_id, times[0], times[1])


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def judge(
    raw_entries: Sequence[Any],
    programme: Programme | None,
    content: dict[str, tuple[str, bool]],
    now: datetime,
) -> tuple[list[tuple[int, PlayRow, PlayCheck, str]], list[dict[str, Any]]]:
    """(kept rows with their check and reason, rejected {index, reason})."""
    approved = {s for s, (_, ok) in content.items() if ok}
    known = set(content)

    memo: dict[int, dict[str, set[str | None]]] = {}

    def allowed(moment: datetime) -> dict[str, set[str | None]]:
        # A batch's rows fall in a few timeline entries: work each out once.
        entry = programme.entry_at(moment) if programme is not None else None
        if entry is None or programme is None:
            return {}
        key = id(entry)
        if key not in memo:
            memo[key] = programme.allowed(moment)
        return memo[key]

    kept: list[tuple[int, PlayRow, PlayCheck, str]] = []
    rejected: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_entries):
        try:
            row = parse_row(raw)
        except ValueError as error:
            rejected.append({"index": index, "reason": f"malformed: {error}"})
            continue
        result = check_play(row, allowed, approved, known, now)
        if result.check is PlayCheck.REJECTED:
            rejected.append({"index": index, "reason": result.reason})
        else:
            kept.append((index, row, result.check, result.reason))
    return kept, rejected


def off_schedule(
    rows: Sequence[tuple[int, PlayRow, PlayCheck, str]], programme: Programme | None
) -> list[dict[str, Any]]:
    """Scheduled slots in the covered span with no ``ok`` play (see module doc)."""
    if programme is None or not rows:
        return []
    start = min(r.started_at for _, r, _, _ in rows)
    end = max(r.ended_at for _, r, _, _ in rows)
    missed = []
    for entry, shas in programme.slots(start, end):
        low, high = max(start, entry.start), min(end, entry.end)
        if (high - low).total_seconds() < SLOT_MIN_S:
            continue
        played = any(
            check is PlayCheck.OK and r.sha256 in shas and r.started_at < high and r.ended_at > low
            for _, r, check, _ in rows
        )
        if not played:
            missed.append(
                {"schedule_id": entry.schedule_id, "from": low.isoformat(), "to": high.isoformat()}
            )
    return missed


async def ingest(
    uow: UnitOfWork,
    screen: ScreenFacts,
    programme: Programme | None,
    raw_entries: Sequence[Any],
    now: datetime,
) -> Outcome:
    """Check, store and roll up one batch from ``screen`` (one transaction)."""
    shas = [
        r["sha256"] for r in raw_entries if isinstance(r, dict) and isinstance(r.get("sha256"), str)
    ]
    facts = await uow.monitoring.content(shas)
    content = {s: (f.asset_id, f.approved) for s, f in facts.items()}
    kept, rejected = judge(raw_entries, programme, content, now)
    outcome = Outcome(accepted=len(kept), rejected=rejected)
    rows: list[dict[str, Any]] = []
    rollups: defaultdict[tuple[datetime, str], list[float]] = defaultdict(lambda: [0, 0.0])
    for index, row, check, reason in kept:
        asset_id = content.get(row.sha256, (None, False))[0]
        rows.append(
            {
                "terminal_id": screen.id,
                "sha256": row.sha256,
                "asset_id": asset_id,
                "schedule_id": row.schedule_id,
                "started_at": row.started_at,
                "ended_at": row.ended_at,
                "received_at": now,
                "verdict": check.value,
            }
        )
        totals = rollups[(_hour(row.started_at), asset_id or row.sha256)]
        totals[0] += 1
        totals[1] += (row.ended_at - row.started_at) / timedelta(seconds=1)
        if check is PlayCheck.UNAUTHORISED:
            outcome.unauthorised.append({"index": index, "sha256": row.sha256, "reason": reason})
    await uow.monitoring.add_plays(rows)
    await uow.monitoring.add_rollups(
        [
            (hour, screen.region, screen.tier, key, int(p), float(s))
            for (hour, key), (p, s) in rollups.items()
        ]
    )
    await uow.commit()
    outcome.observations = _observations(screen, outcome, off_schedule(kept, programme), kept)
    return outcome


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
    names = await uow.monitoring.asset_names(list(totals)) if by == "asset" else {}
    return [
        {
            "key": key,
            "name": names.get(key, ""),
            "plays": int(p),
            "seconds": round(s, 1),
            "by_tier": tiers[key],
        }
        for key, (p, s) in sorted(totals.items(), key=lambda kv: -kv[1][0])
    ]
