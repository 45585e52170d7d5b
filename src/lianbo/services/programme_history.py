"""The programme in force at each moment: the current manifest and the
versions it superseded (ADR 0006).

A rebuild at ``T`` makes a new version that is in force from ``T`` on; the
one before is kept with ``[its own start, T)`` (``services.manifests``).
Play-log checks ask ``InForce`` which version to judge a moment by: the
current one from its ``in_force_from`` on, a kept one inside its span, and
the current one (as before history was kept) for moments no kept version
covers (before an audience's first manifest, or past retention).

Kept versions never change, so ``ManifestHistory`` (one per process) caches
what it loaded per audience and reads the store only when a batch reaches
further back than it loaded, or the audience's current version changed.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime

from lianbo.adapters.db.uow import UnitOfWork
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
