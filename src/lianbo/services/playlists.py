"""Playlists: ordered approved assets."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.errors import InvalidInput, NotFound
from lianbo.domain.playlists import (
    Fit,
    Playlist,
    PlaylistItem,
    check_items,
    item_duration,
    require_playable,
)
from lianbo.domain.ports import Clock
from lianbo.domain.users import Actor
from lianbo.services import audit
from lianbo.services.assets import require_content_manager


@dataclass(frozen=True, slots=True)
class ItemRequest:
    asset_id: str
    duration_ms: int | None = None
    fit: Fit = Fit.CONTAIN


async def _items(
    uow: UnitOfWork, actor: Actor, requests: list[ItemRequest]
) -> tuple[PlaylistItem, ...]:
    check_items(len(requests))
    items = []
    for index, request in enumerate(requests):
        asset = await uow.assets.get(request.asset_id)
        if asset is None or not actor.sees(asset.region):
            raise NotFound(f"asset {request.asset_id} not found", field=f"items.{index}.asset_id")
        require_playable(asset, index)
        items.append(
            PlaylistItem(asset.id, item_duration(asset, request.duration_ms, index), request.fit)
        )
    return tuple(items)


def _name(raw: str) -> str:
    name = raw.strip()
    if not name or len(name) > 200:
        raise InvalidInput("name must be 1-200 characters", field="name")
    return name


async def create_playlist(
    uow: UnitOfWork, clock: Clock, actor: Actor, name: str, requests: list[ItemRequest]
) -> Playlist:
    require_content_manager(actor)
    playlist = Playlist(
        uuid.uuid4().hex,
        _name(name),
        await _items(uow, actor, requests),
        actor.jurisdiction,
        actor.user_id,
    )
    await uow.programming.add_playlist(playlist, clock.now())
    await audit.record(
        uow,
        clock,
        actor,
        "playlist.create",
        ("playlist", playlist.id),
        region=playlist.region,
        after={"name": playlist.name, "items": [i.asset_id for i in playlist.items]},
    )
    await uow.commit()
    return playlist


async def get_playlist(uow: UnitOfWork, actor: Actor, playlist_id: str) -> Playlist:
    playlist = await uow.programming.playlist(playlist_id)
    if playlist is None or not actor.sees(playlist.region):
        raise NotFound("playlist not found")
    return playlist


async def update_playlist(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    playlist_id: str,
    name: str,
    requests: list[ItemRequest],
) -> Playlist:
    require_content_manager(actor)
    before = await get_playlist(uow, actor, playlist_id)
    after = Playlist(
        before.id, _name(name), await _items(uow, actor, requests), before.region, before.owner
    )
    await uow.programming.replace_playlist(after, clock.now())
    await audit.record(
        uow,
        clock,
        actor,
        "playlist.update",
        ("playlist", playlist_id),
        region=before.region,
        before={"items": [i.asset_id for i in before.items]},
        after={"name": after.name, "items": [i.asset_id for i in after.items]},
    )
    await uow.commit()
    return after


async def list_playlists(
    uow: UnitOfWork, actor: Actor, *, limit: int, offset: int
) -> list[Playlist]:
    return await uow.programming.playlists(within=actor.jurisdiction, limit=limit, offset=offset)


async def playlists_by_id(uow: UnitOfWork, ids: set[str]) -> dict[str, Playlist]:
    """playlist id → playlist with its items, for ids a page already holds."""
    return await uow.programming.all_playlists(ids)
