"""The programme in force at each moment: the current manifest and the
versions it superseded (ADR 0006).

A rebuild at ``T`` makes a new version that is in force from ``T`` on; the
one before is kept with ``[its own start, T)`` (``services.manifests``).
Play-log checks and screenshot verification ask ``InForce`` which version
to judge a moment by: the current one from its ``in_force_from`` on, a kept
one inside its span, and the current one (as before history was kept) for
moments no kept version covers (before an audience's first manifest, or
past retention). ``allowed_by`` is the play-log hot path's lookup over it.

Kept versions never change, so ``ManifestHistory`` (one per process) caches
what it loaded per audience and reads the store only when a batch reaches
further back than it loaded, or the audience's current version changed.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import pairwise

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.monitoring.playlog import Allowed
from lianbo.protocol.manifest import Entry
from lianbo.services import programme as programmes
from lianbo.services.programme import Programme

AUDIENCES_MAX = 2000  # audiences whose loaded history a process keeps (least recent dropped)


@dataclass(frozen=True, slots=True)
class Past:
    """A superseded version and the span ``[start, end)`` it was in force."""

    start: datetime
    end: datetime
    programme: Programme


@dataclass(frozen=True, slots=True)
class InForce:
    """The current programme and the superseded versions loaded for moments
    from ``loaded_from`` up to the current one's ``in_force_from``."""

    current: Programme | None
    past: tuple[Past, ...] = ()
    loaded_from: datetime | None = None

    @property
    def since(self) -> datetime | None:
        """Since when the current version is in force (None: not known)."""
        return self.current.in_force_from if self.current is not None else None

    def missing(self, moment: datetime) -> bool:
        """True when ``moment`` is before the current version and the kept
        versions for it are not loaded."""
        since = self.since
        if since is None or moment >= since:
            return False
        return self.loaded_from is None or moment < self.loaded_from

    def at(self, moment: datetime) -> Programme | None:
        """The programme in force at ``moment`` (the current one where no kept
        version covers it)."""
        for past in self.past if self.since is not None and moment < self.since else ():
            if past.start <= moment < past.end:
                return past.programme
        return self.current

    def pieces(self, start: datetime, end: datetime) -> list[tuple[Programme, datetime, datetime]]:
        """``[start, end)`` cut into (programme in force, from, to), in order."""
        if self.current is None or end <= start:
            return []
        found, cursor = [], start
        for past in self.past if self.since is not None else ():
            low, high = max(cursor, past.start), min(end, past.end)
            if low >= high:
                continue
            if cursor < low:
                found.append((self.current, cursor, low))
            found.append((past.programme, low, high))
            cursor = high
        if cursor < end:
            found.append((self.current, cursor, end))
        return found

    def slots(self, start: datetime, end: datetime) -> list[tuple[Entry, frozenset[str]]]:
        """Scheduled entries of the versions in force over ``[start, end)``,
        each cut to the span its version was in force."""
        found = []
        for plan, low, high in self.pieces(start, end):
            for entry, shas in plan.slots(low, high):
                cut = replace(entry, start=max(entry.start, low), end=min(entry.end, high))
                found.append((cut, shas))
        return found


def allowed_by(plan: Programme | InForce | None) -> Allowed:
    """What the manifest in force at each moment allowed (ADR 0006): a kept
    (superseded) version inside its span, else the current programme."""
    in_force = plan if isinstance(plan, InForce) else InForce(plan)
    if in_force.current is None:
        return lambda _moment: {}
    current = _programme_lookup(in_force.current)
    since, past = in_force.since, in_force.past
    if since is None or not past:  # the common case: no kept version loaded
        return current
    starts = [p.start for p in past]
    lookups: dict[int, Allowed] = {}

    def lookup(moment: datetime) -> dict[str, set[str | None]]:
        if moment >= since:
            return current(moment)
        index = bisect_right(starts, moment) - 1
        if index < 0 or not moment < past[index].end:  # no kept version: as before
            return current(moment)
        if index not in lookups:
            lookups[index] = _programme_lookup(past[index].programme)
        return lookups[index](moment)

    return lookup


def _programme_lookup(programme: Programme) -> Allowed:
    """``programme.allowed``, worked out once per timeline entry a batch touches.

    Rows are placed by bisecting the entries' starts (a batch asks 500
    times), which finds what ``entry_at`` finds when the entries are in
    order and do not overlap, as the manifest builder makes them; any
    other timeline is scanned as ``entry_at`` does.
    """
    inner = _timeline_lookup(programme)
    earlier: list[dict[str, set[str | None]]] = []  # before valid_from: computed once

    def lookup(moment: datetime) -> dict[str, set[str | None]]:
        if moment >= programme.valid_from:
            return inner(moment)
        if not earlier:
            earlier.append(programme.allowed(moment))
        return earlier[0]

    return lookup


def _timeline_lookup(programme: Programme) -> Allowed:
    plan, timeline = programme, programme.timeline
    memo: dict[int, dict[str, set[str | None]]] = {}
    if not all(a.end <= b.start for a, b in pairwise(timeline)):

        def scanned(moment: datetime) -> dict[str, set[str | None]]:
            entry = plan.entry_at(moment)
            if entry is None:
                return {}
            if id(entry) not in memo:
                memo[id(entry)] = plan.allowed(moment)
            return memo[id(entry)]

        return scanned
    starts = [entry.start for entry in timeline]

    def bisected(moment: datetime) -> dict[str, set[str | None]]:
        index = bisect_right(starts, moment) - 1
        if index < 0 or not moment < timeline[index].end:
            return {}
        if index not in memo:
            memo[index] = plan.allowed(moment)
        return memo[index]

    return bisected


class ManifestHistory:
    """Kept versions per audience, loaded on demand (see the module doc)."""

    def __init__(self, audiences_max: int = AUDIENCES_MAX) -> None:
        self.audiences_max = audiences_max
        self._loaded: OrderedDict[str, InForce] = OrderedDict()
        self.loads = 0  # store reads (tests, metrics)

    def in_force(self, audience_key: str, current: Programme | None) -> InForce:
        """What is loaded for the audience, valid while its current version is."""
        cached = self._loaded.get(audience_key)
        if cached is None or current is None or cached.since != current.in_force_from:
            return InForce(current)
        self._loaded.move_to_end(audience_key)
        return replace(cached, current=current)

    async def reaching(
        self, uow: UnitOfWork, audience_key: str, current: Programme | None, earliest: datetime
    ) -> InForce:
        """The audience's versions in force from ``earliest`` on (read from
        the store when not loaded yet)."""
        known = self.in_force(audience_key, current)
        since = known.since
        if not known.missing(earliest) or since is None:
            return known
        versions = await uow.history.versions(audience_key, earliest, since)
        past = [
            Past(
                v.in_force_from,
                v.in_force_until,
                await programmes.parse(uow, v.version, json.loads(v.body), v.in_force_from),
            )
            for v in versions
        ]
        self.loads += 1
        loaded = InForce(current, tuple(past), earliest)
        self._loaded[audience_key] = loaded
        self._loaded.move_to_end(audience_key)
        while len(self._loaded) > self.audiences_max:
            self._loaded.popitem(last=False)
        return loaded
