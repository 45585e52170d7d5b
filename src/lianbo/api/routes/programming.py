"""/api/v1/playlists and /api/v1/schedules: what plays, where and when."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from lianbo.api.deps import ActorDep, ContainerDep, UowDep
from lianbo.api.programming_schemas import (
    PlaylistIn,
    PlaylistItemOut,
    PlaylistOut,
    ScheduleIn,
    ScheduleOut,
)
from lianbo.api.routes.common import AwareMoment, Limit, Offset
from lianbo.api.schemas import (
    Page,
)
from lianbo.domain.playlists import Playlist
from lianbo.domain.schedules import Schedule, ScheduleState, Targets, parse_window
from lianbo.services import playlists, schedules
from lianbo.services.playlists import ItemRequest
from lianbo.services.schedules import ScheduleRequest

router = APIRouter(prefix="/api/v1", tags=["programming"])


def playlist_out(p: Playlist) -> PlaylistOut:
    return PlaylistOut(
        id=p.id,
        name=p.name,
        region=p.region,
        length_ms=p.length_ms,
        items=[
            PlaylistItemOut(asset_id=i.asset_id, duration_ms=i.duration_ms, fit=i.fit)
            for i in p.items
        ],
    )


def schedule_out(s: Schedule, now: datetime) -> ScheduleOut:
    return ScheduleOut(
        id=s.id,
        name=s.name,
        playlist_id=s.playlist_id,
        targets={
            "regions": list(s.targets.regions),
            "tiers": [t.value for t in s.targets.tiers],
            "groups": list(s.targets.groups),
            "tags": list(s.targets.tags),
        },
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        rrule=s.rrule,
        daily_window=(
            {
                "start": s.daily_window.start.strftime("%H:%M"),
                "end": s.daily_window.end.strftime("%H:%M"),
            }
            if s.daily_window
            else None
        ),
        timezone=s.timezone,
        priority=s.priority,
        sync=s.sync,
        state=s.state_at(now),
        published_at=s.published_at,
        region=s.region,
    )


def _items(body: PlaylistIn) -> list[ItemRequest]:
    return [ItemRequest(i.asset_id, i.duration_ms, i.fit) for i in body.items]


@router.post("/playlists", status_code=201)
async def create_playlist(
    body: PlaylistIn, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> PlaylistOut:
    """Only approved assets; a draft, rejected or revoked one is a 409 naming it."""
    return playlist_out(
        await playlists.create_playlist(uow, container.clock, actor, body.name, _items(body))
    )


@router.get("/playlists")
async def list_playlists(
    actor: ActorDep, uow: UowDep, limit: Limit = 50, offset: Offset = 0
) -> Page[PlaylistOut]:
    found = await playlists.list_playlists(uow, actor, limit=limit, offset=offset)
    return Page(items=[playlist_out(p) for p in found], total=len(found))


@router.get("/playlists/{playlist_id}")
async def get_playlist(playlist_id: str, actor: ActorDep, uow: UowDep) -> PlaylistOut:
    return playlist_out(await playlists.get_playlist(uow, actor, playlist_id))


@router.put("/playlists/{playlist_id}")
async def replace_playlist(
    playlist_id: str, body: PlaylistIn, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> PlaylistOut:
    updated = await playlists.update_playlist(
        uow, container.clock, actor, playlist_id, body.name, _items(body)
    )
    return playlist_out(updated)


@router.post("/schedules", status_code=201)
async def create_schedule(
    body: ScheduleIn, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> ScheduleOut:
    """A draft schedule; publishing it is a separate, audited act."""
    window = (
        parse_window(body.daily_window.start, body.daily_window.end) if body.daily_window else None
    )
    request = ScheduleRequest(
        name=body.name,
        playlist_id=body.playlist_id,
        targets=Targets(
            tuple(body.targets.regions),
            tuple(body.targets.tiers),
            tuple(body.targets.groups),
            tuple(body.targets.tags),
        ),
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        priority=body.priority,
        timezone=body.timezone,
        rrule=body.rrule,
        daily_window=window,
        sync=body.sync,
    )
    return schedule_out(
        await schedules.create_schedule(uow, container.clock, actor, request), container.clock.now()
    )


@router.get("/schedules")
async def list_schedules(
    actor: ActorDep,
    uow: UowDep,
    container: ContainerDep,
    state: Annotated[list[ScheduleState] | None, Query()] = None,
    since: AwareMoment | None = None,
    until: AwareMoment | None = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> Page[ScheduleOut]:
    found = await schedules.list_schedules(
        uow, actor, states=state, since=since, until=until, limit=limit, offset=offset
    )
    return Page(items=[schedule_out(s, container.clock.now()) for s in found], total=len(found))


@router.get("/schedules/{schedule_id}")
async def get_schedule(
    schedule_id: str, actor: ActorDep, uow: UowDep, container: ContainerDep
) -> ScheduleOut:
    return schedule_out(
        await schedules.get_schedule(uow, actor, schedule_id), container.clock.now()
    )


@router.post("/schedules/{schedule_id}/publish")
async def publish(
    schedule_id: str, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> ScheduleOut:
    published = await schedules.publish(uow, container.clock, actor, schedule_id)
    return schedule_out(published, container.clock.now())


@router.post("/schedules/{schedule_id}/unpublish")
async def unpublish(
    schedule_id: str, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> ScheduleOut:
    unpublished = await schedules.unpublish(uow, container.clock, actor, schedule_id)
    return schedule_out(unpublished, container.clock.now())
