"""Schedules: drafted, then published (a control act) into manifests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.errors import Conflict, InvalidInput, NotFound, Unprocessable
from lianbo.domain.events import SchedulePublished, ScheduleUnpublished
from lianbo.domain.playlists import require_playable
from lianbo.domain.ports import Clock
from lianbo.domain.regions import normalise_code
from lianbo.domain.schedules import (
    SCHEDULABLE,
    DailyWindow,
    PriorityClass,
    Schedule,
    ScheduleState,
    Targets,
    check_rrule,
    check_window,
    zone,
)
from lianbo.domain.terminals import check_labels
from lianbo.domain.users import Actor
from lianbo.services import audit
from lianbo.services.assets import require_content_manager
from lianbo.services.playlists import get_playlist


@dataclass(frozen=True, slots=True)
class ScheduleRequest:
    name: str
    playlist_id: str
    targets: Targets
    starts_at: datetime
    ends_at: datetime
    priority: PriorityClass
    timezone: str
    rrule: str | None
    daily_window: DailyWindow | None
    sync: bool


async def _targets(uow: UnitOfWork, actor: Actor, targets: Targets) -> Targets:
    if not targets.regions:
        raise InvalidInput("at least one target region is needed", field="targets.regions")
    regions = []
    for index, raw in enumerate(targets.regions):
        code = normalise_code(raw, field=f"targets.regions.{index}")
        if not actor.sees(code) or await uow.regions.get(code) is None:
            raise NotFound(f"region {raw} not found", field=f"targets.regions.{index}")
        regions.append(code)
    return replace(
        targets,
        regions=tuple(dict.fromkeys(regions)),
        groups=check_labels(targets.groups, field_name="targets.groups"),
        tags=check_labels(targets.tags, field_name="targets.tags"),
    )


async def _check_playlist(uow: UnitOfWork, actor: Actor, playlist_id: str) -> None:
    try:
        playlist = await get_playlist(uow, actor, playlist_id)
    except NotFound:
        raise NotFound("playlist not found", field="playlist_id") from None
    for index, item in enumerate(playlist.items):
        asset = await uow.assets.get(item.asset_id)
        assert asset is not None
        require_playable(asset, index)


async def create_schedule(
    uow: UnitOfWork, clock: Clock, actor: Actor, request: ScheduleRequest
) -> Schedule:
    """Validate everything, save as a draft (nothing reaches screens yet)."""
    require_content_manager(actor)
    if request.priority not in SCHEDULABLE:
        raise Unprocessable("emergency is reserved for alerts", field="priority")
    name = request.name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("name must be 1-200 characters", field="name")
    check_window(request.starts_at, request.ends_at)
    zone(request.timezone)
    rrule = (
        check_rrule(request.rrule, request.starts_at, request.timezone) if request.rrule else None
    )
    targets = await _targets(uow, actor, request.targets)
    await _check_playlist(uow, actor, request.playlist_id)
    schedule = Schedule(
        id=uuid.uuid4().hex,
        name=name,
        playlist_id=request.playlist_id,
        targets=targets,
        starts_at=request.starts_at,
        ends_at=request.ends_at,
        priority=request.priority,
        timezone=request.timezone,
        rrule=rrule,
        daily_window=request.daily_window,
        sync=request.sync,
        region=actor.jurisdiction,
        owner=actor.user_id,
        created_at=clock.now(),
    )
    await uow.programming.add_schedule(schedule)
    await audit.record(
        uow,
        clock,
        actor,
        "schedule.create",
        ("schedule", schedule.id),
        region=schedule.region,
        after={
            "name": name,
            "priority": schedule.priority.value,
            "playlist_id": schedule.playlist_id,
        },
    )
    await uow.commit()
    return schedule


async def get_schedule(uow: UnitOfWork, actor: Actor, schedule_id: str) -> Schedule:
    schedule = await uow.programming.schedule(schedule_id)
    if schedule is None or not actor.sees(schedule.region):
        raise NotFound("schedule not found")
    return schedule


async def publish(uow: UnitOfWork, clock: Clock, actor: Actor, schedule_id: str) -> Schedule:
    """Put a draft on air: audited; the reached audiences' manifests are
    rebuilt after the commit (``SchedulePublished``)."""
    return await _transition(uow, clock, actor, schedule_id, publish=True)


async def unpublish(uow: UnitOfWork, clock: Clock, actor: Actor, schedule_id: str) -> Schedule:
    return await _transition(uow, clock, actor, schedule_id, publish=False)


async def _transition(
    uow: UnitOfWork, clock: Clock, actor: Actor, schedule_id: str, *, publish: bool
) -> Schedule:
    require_content_manager(actor)
    schedule = await get_schedule(uow, actor, schedule_id)
    published_at: datetime | None
    if publish:
        if schedule.state is not ScheduleState.DRAFT:
            raise Conflict(f"a {schedule.state.value} schedule cannot be published")
        await _check_playlist(uow, actor, schedule.playlist_id)
        state, published_at = ScheduleState.PUBLISHED, clock.now()
    else:
        if schedule.state is not ScheduleState.PUBLISHED:
            raise Conflict(f"a {schedule.state.value} schedule cannot be unpublished")
        state, published_at = ScheduleState.UNPUBLISHED, schedule.published_at
    await uow.programming.set_schedule_state(schedule_id, state, published_at)
    await audit.record(
        uow,
        clock,
        actor,
        "schedule.publish" if publish else "schedule.unpublish",
        ("schedule", schedule_id),
        region=schedule.region,
        before={"state": schedule.state.value},
        after={"state": state.value},
    )
    # the audiences it reaches get rebuilt manifests once this commits
    uow.record(SchedulePublished(schedule_id) if publish else ScheduleUnpublished(schedule_id))
    await uow.commit()
    return replace(schedule, state=state, published_at=published_at)


async def list_schedules(
    uow: UnitOfWork,
    actor: Actor,
    *,
    states: list[ScheduleState] | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> list[Schedule]:
    return await uow.programming.schedules(
        within=actor.jurisdiction,
        states=states,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
