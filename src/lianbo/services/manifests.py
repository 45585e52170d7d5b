"""Building and serving signed manifests, one per audience.

Terminals with the same targeting facts share one manifest (computed and
signed once). A change rebuilds only the audiences it can reach: a schedule
its targets' audiences; a revoked asset the audiences of every schedule
whose playlist holds it; a terminal its own (new) audience.

A new version is in force from the moment it is built, never before: the
version it supersedes is kept (``manifest_history``) with the span it was in
force, and play logs of that span are judged by it (ADR 0006).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lianbo.adapters.db.repos.history import Head
from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.canonical import canonical_json
from lianbo.domain.events import ManifestsChanged
from lianbo.domain.manifest import PlaylistFacts, build, claims_for, horizon, spans_of
from lianbo.domain.monitoring.history import in_force_part
from lianbo.domain.priority import Slot, resolve
from lianbo.domain.schedules import Schedule
from lianbo.domain.targeting import Audience, ScheduleIndex, specificity
from lianbo.services.context import Context


@dataclass(frozen=True, slots=True)
class Built:
    audiences: int
    changed: int


async def _inputs(
    uow: UnitOfWork, now: datetime, fillers: set[str] | None = None
) -> tuple[list[Schedule], dict[str, PlaylistFacts], dict[str, Any]]:
    schedules = await uow.programming.live_schedules(now)
    wanted = {s.playlist_id for s in schedules} | (fillers or set())
    playlists = await uow.programming.all_playlists(wanted)
    asset_ids = {item.asset_id for p in playlists.values() for item in p.items}
    assets = await uow.assets.manifest_facts(asset_ids)
    facts = {
        pid: PlaylistFacts(
            pid,
            tuple(
                (i.asset_id, i.duration_ms, i.fit.value) for i in p.items if i.asset_id in assets
            ),
        )
        for pid, p in playlists.items()
    }
    playable = {pid: f for pid, f in facts.items() if f.items}
    return [s for s in schedules if s.playlist_id in playable], playable, assets


async def rebuild(
    container: Context,
    audience_keys: set[str] | None = None,
    *,
    audiences: dict[str, Audience] | None = None,
) -> Built:
    """Build (and sign) the manifests of the given audiences, or of all."""
    now = container.clock.now()
    async with container.uow() as uow:
        await uow.programming.lock_manifests()  # one rebuild at a time, every process
        if audiences is None:
            audiences = await uow.terminals.audiences()
            if audience_keys is not None:
                audiences = {k: a for k, a in audiences.items() if k in audience_keys}
        fillers = container.settings.filler_playlists
        schedules, playlists, assets = await _inputs(uow, now, set(fillers.values()))
        index = ScheduleIndex(schedules)
        reaching = {s.id: s for a in audiences.values() for s in index.candidates(a)}
        spans = spans_of(list(reaching.values()), *horizon(now))
        signer = await container.keys.signer(uow)
        base = container.settings.edge_base
        heads = await uow.history.heads(set(audiences))
        memo: dict[tuple[tuple[str, int], ...], list[Slot]] = {}
        rows, changed = [], {}
        for key, audience in audiences.items():
            body = build(
                audience,
                index.candidates(audience),
                playlists,
                assets,
                now=now,
                media_base=base,
                spans=spans,
                memo=memo,
                filler=fillers.get(audience.tier.value),
            )
            head = heads.get(key)
            if head is None or head.version != body["version"]:
                changed[key] = body["version"]
            data = canonical_json(body)
            rows.append(
                {
                    "audience_key": key,
                    "audience": audience.as_json(),
                    "version": body["version"],
                    "body": data.decode("utf-8"),
                    "signature": signer.sign(data),
                    "key_id": signer.key_id,
                    "built_at": now,
                    # a new version is in force from now on, never before (ADR 0006)
                    "in_force_from": now if key in changed or head is None else head.in_force_from,
                }
            )
        await _keep_superseded(uow, {k: heads[k] for k in changed if k in heads}, now)
        await uow.programming.put_manifests(rows)
        if changed:  # every process answers the new versions; screens fetch them now
            uow.record(ManifestsChanged(changed))
        await uow.commit()
    for row in rows:
        container.manifest_cache.remember_version(row["audience_key"], row["version"])
    return Built(len(rows), len(changed))


async def _keep_superseded(uow: UnitOfWork, superseded: dict[str, Head], now: datetime) -> None:
    """Keep each superseded version with the span it was in force, cut to
    that span: play logs of those moments are judged by it (ADR 0006)."""
    if not superseded:
        return
    bodies = await uow.history.bodies(set(superseded))
    kept = []
    for key, head in superseded.items():
        if key not in bodies or head.in_force_from >= now:  # in force for no time at all
            continue
        part = in_force_part(json.loads(bodies[key]), head.in_force_from, now)
        kept.append((key, head.version, head.in_force_from, now, canonical_json(part).decode()))
    await uow.history.keep(kept)


async def audiences_of(uow: UnitOfWork, schedules: list[Schedule]) -> dict[str, Audience]:
    """Audiences any of ``schedules`` can reach (found by region subtree)."""
    found: dict[str, Audience] = {}
    for region in {r for s in schedules for r in s.targets.regions}:
        found.update(await uow.terminals.audiences(region))
    return {
        key: audience
        for key, audience in found.items()
        if any(specificity(s.targets, audience) for s in schedules)
    }


async def audiences_playing(uow: UnitOfWork, asset_id: str) -> dict[str, Audience]:
    playlists = await uow.programming.playlists_with_asset(asset_id)
    return await audiences_of(uow, await uow.programming.schedules_using(playlists))


def audience_key(audience: Audience) -> str:
    return audience.key()


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    start: datetime
    end: datetime
    schedule: Schedule | None
    reason: str
    items: list[dict[str, Any]]


async def timeline(
    uow: UnitOfWork, audience: Audience, start: datetime, end: datetime
) -> list[TimelineEntry]:
    """What an audience plays in ``[start, end)`` and why each entry won
    (the console's "what plays where"; the same rule the manifests use)."""
    schedules, playlists, assets = await _inputs(uow, start)
    candidates = ScheduleIndex(schedules).candidates(audience)
    by_id = {s.id: s for s in candidates}
    entries = []
    for slot in resolve(start, end, claims_for(audience, candidates, start, end)):
        schedule = by_id[slot.claim.schedule_id] if slot.claim else None
        facts = playlists.get(schedule.playlist_id) if schedule else None
        items = [
            {
                "asset_id": asset_id,
                "name": assets[asset_id].name,
                "kind": assets[asset_id].kind,
                "duration_ms": duration,
                "sha256": assets[asset_id].original.sha256 if assets[asset_id].original else None,
            }
            for asset_id, duration, _ in (facts.items if facts else ())
        ]
        entries.append(TimelineEntry(slot.start, slot.end, schedule, slot.reason, items))
    return entries


async def after_revoke(container: Context, asset_id: str) -> Built:
    """Take a revoked asset off air: rebuild every audience that could play it."""
    async with container.uow() as uow:
        reached = await audiences_playing(uow, asset_id)
    return await rebuild(container, audiences=reached)
