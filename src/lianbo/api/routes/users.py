"""/api/v1/users: admin-only user management inside the jurisdiction."""

from __future__ import annotations

from fastapi import APIRouter

from lianbo.api.deps import ActorDep, ContainerDep, UowDep
from lianbo.api.routes.common import Limit, Offset
from lianbo.api.schemas import Page, UserCreate, UserOut, UserPatch
from lianbo.services import users

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.get("")
async def list_users(
    actor: ActorDep, uow: UowDep, limit: Limit = 50, offset: Offset = 0
) -> Page[UserOut]:
    found, total = await users.list_users(uow, actor, limit=limit, offset=offset)
    return Page(items=[UserOut.of(u) for u in found], total=total)


@router.post("", status_code=201)
async def create_user(
    body: UserCreate, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> UserOut:
    user = await users.create_user(
        uow,
        container.clock,
        actor,
        username=body.username,
        password=body.password,
        role=body.role,
        region=body.region,
        display_name=body.display_name,
    )
    return UserOut.of(user)


@router.get("/{user_id}")
async def get_user(user_id: str, actor: ActorDep, uow: UowDep) -> UserOut:
    return UserOut.of(await users.get_user(uow, actor, user_id))


@router.patch("/{user_id}")
async def update_user(
    user_id: str, body: UserPatch, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> UserOut:
    user = await users.update_user(
        uow,
        container.clock,
        actor,
        user_id,
        role=body.role,
        region=body.region,
        display_name=body.display_name,
        active=body.active,
        password=body.password,
    )
    return UserOut.of(user)
