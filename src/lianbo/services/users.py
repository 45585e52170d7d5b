"""Managing users: create, list, change role, jurisdiction, password."""

from __future__ import annotations

import uuid
from dataclasses import replace

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.adapters.passwords import hash_password
from lianbo.domain.errors import Conflict, Forbidden, NotFound
from lianbo.domain.events import UserDeactivated
from lianbo.domain.ports import Clock
from lianbo.domain.roles import Permission, Role
from lianbo.domain.users import Actor, User, check_password, check_username
from lianbo.services import audit
from lianbo.services.regions import require_region


def _require_manager(actor: Actor) -> None:
    if not actor.can(Permission.MANAGE_USERS):
        raise Forbidden("managing users needs the admin role")


async def create_user(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    *,
    username: str,
    password: str,
    role: Role,
    region: str,
    display_name: str = "",
    language: str = "zh-CN",
) -> User:
    """Create a user inside the actor's jurisdiction (audited)."""
    _require_manager(actor)
    check_username(username)
    check_password(password)
    region = await require_region(uow, actor, region)
    if await uow.users.exists(username):
        raise Conflict(f"username {username!r} is taken", field="username")
    user = User(
        id=uuid.uuid4().hex,
        username=username,
        display_name=display_name.strip() or username,
        role=role,
        region=region,
        active=True,
        language=language,
        created_at=clock.now(),
    )
    await uow.users.add(user, hash_password(password))
    await audit.record(
        uow, clock, actor, "user.create", ("user", user.id), region=region, after=user.facts()
    )
    await uow.commit()
    return user


async def get_user(uow: UnitOfWork, actor: Actor, user_id: str) -> User:
    """A user in the actor's jurisdiction, else NotFound."""
    _require_manager(actor)
    user = await uow.users.get(user_id)
    if user is None or not actor.sees(user.region):
        raise NotFound("user not found")
    return user


async def list_users(
    uow: UnitOfWork, actor: Actor, *, limit: int, offset: int
) -> tuple[list[User], int]:
    _require_manager(actor)
    return await uow.users.list(within=actor.jurisdiction, limit=limit, offset=offset)


async def update_user(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    user_id: str,
    *,
    role: Role | None = None,
    region: str | None = None,
    display_name: str | None = None,
    active: bool | None = None,
    password: str | None = None,
) -> User:
    """Change a user; role and jurisdiction changes are audited control acts."""
    before = await get_user(uow, actor, user_id)
    after = before
    if role is not None:
        after = replace(after, role=role)
    if region is not None:
        after = replace(after, region=await require_region(uow, actor, region))
    if display_name is not None:
        after = replace(after, display_name=display_name.strip() or before.username)
    if active is not None:
        if user_id == actor.user_id and not active:
            raise Conflict("you cannot deactivate yourself", field="active")
        after = replace(after, active=active)
    await uow.users.update(
        user_id,
        role=after.role.value,
        region=after.region,
        display_name=after.display_name,
        active=after.active,
    )
    changes: dict[str, object] = {}
    if password is not None:
        await uow.users.set_password_hash(user_id, hash_password(check_password(password)))
        changes["password"] = "changed"
    if after.active is False or password is not None or after.role != before.role:
        await uow.tokens.revoke_all(user_id)
    if before.active and not after.active:
        uow.record(UserDeactivated(user_id))
    action = "user.role" if after.role != before.role else "user.update"
    await audit.record(
        uow,
        clock,
        actor,
        action,
        ("user", user_id),
        region=after.region,
        before=before.facts(),
        after={**after.facts(), **changes},
    )
    await uow.commit()
    return after


async def set_language(uow: UnitOfWork, actor: Actor, language: str) -> None:
    """A user's own preference; not a control act."""
    await uow.users.update(actor.user_id, language=language)
    await uow.commit()


async def find_user(uow: UnitOfWork, user_id: str) -> User | None:
    """The user, or None (the signed-in console's own name, no check)."""
    return await uow.users.get(user_id)
