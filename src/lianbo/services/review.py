"""Three-level review (三审) of assets; every transition is an audited act."""

from __future__ import annotations

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain import review as machine
from lianbo.domain.assets import Asset
from lianbo.domain.errors import Forbidden
from lianbo.domain.events import AssetRevoked
from lianbo.domain.ports import Clock
from lianbo.domain.review import Decision, ReviewStep
from lianbo.domain.roles import Permission
from lianbo.domain.users import Actor
from lianbo.services import audit
from lianbo.services.assets import get_asset, require_content_manager


async def _apply(
    uow: UnitOfWork, clock: Clock, actor: Actor, asset: Asset, step: ReviewStep, action: str
) -> Asset:
    await uow.assets.add_step(asset.id, step)
    await uow.assets.set_state(asset.id, step.to_state, step.round, step.at)
    await audit.record(
        uow,
        clock,
        actor,
        action,
        ("asset", asset.id),
        region=asset.region,
        before={"review_state": step.from_state.value},
        after={
            "review_state": step.to_state.value,
            "level": step.level,
            "round": step.round,
            "reason": step.reason,
        },
    )
    await uow.commit()
    updated = await uow.assets.get(asset.id)
    assert updated is not None
    return updated


async def submit(uow: UnitOfWork, clock: Clock, actor: Actor, asset_id: str) -> Asset:
    """Send an asset to review (first submission, or again after a rejection)."""
    require_content_manager(actor)
    asset = await get_asset(uow, actor, asset_id)
    step = machine.submit(
        asset.review_state, asset.review_round, actor.user_id, actor.username, clock.now()
    )
    return await _apply(uow, clock, actor, asset, step, "asset.submit")


async def review(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    asset_id: str,
    decision: Decision,
    reason: str | None,
) -> Asset:
    """Pass or fail the level the asset is waiting at."""
    if not actor.can(Permission.REVIEW_CONTENT):
        raise Forbidden("reviewing needs the reviewer role")
    asset = await get_asset(uow, actor, asset_id)
    history = await uow.assets.history(asset_id)
    step = machine.review(
        asset.review_state,
        history,
        asset.review_round,
        decision,
        actor.user_id,
        actor.username,
        clock.now(),
        reason,
    )
    return await _apply(uow, clock, actor, asset, step, f"asset.review.{step.action}")


async def revoke(
    uow: UnitOfWork, clock: Clock, actor: Actor, asset_id: str, reason: str | None
) -> Asset:
    """Take an approved asset off air everywhere: once it commits, every
    audience that could play it gets a rebuilt manifest (``AssetRevoked``)."""
    if not actor.can(Permission.REVIEW_CONTENT):
        raise Forbidden("revoking needs the reviewer role")
    asset = await get_asset(uow, actor, asset_id)
    step = machine.revoke(
        asset.review_state, asset.review_round, actor.user_id, actor.username, clock.now(), reason
    )
    uow.record(AssetRevoked(asset_id))  # handled only if _apply commits
    return await _apply(uow, clock, actor, asset, step, "asset.revoke")
