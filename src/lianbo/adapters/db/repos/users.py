"""Users and tokens repository."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.tables import TokenRow, UserRow
from lianbo.domain.regions import subtree_range
from lianbo.domain.roles import Role
from lianbo.domain.users import User


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        region=row.region_code,
        active=row.active,
        language=row.language,
        created_at=row.created_at,
    )


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, user: User, password_hash: str) -> None:
        self.session.add(
            UserRow(
                id=user.id,
                username=user.username,
                display_name=user.display_name,
                password_hash=password_hash,
                role=user.role.value,
                region_code=user.region,
                active=user.active,
                language=user.language,
                created_at=user.created_at,
            )
        )
        await self.session.flush()

    async def get(self, user_id: str) -> User | None:
        row = await self.session.get(UserRow, user_id)
        return _user(row) if row else None

    async def by_username(self, username: str) -> tuple[User, str] | None:
        """The user and their password hash, for login."""
        row = await self.session.scalar(select(UserRow).where(UserRow.username == username))
        return (_user(row), row.password_hash) if row else None

    async def exists(self, username: str) -> bool:
        found = await self.session.scalar(select(UserRow.id).where(UserRow.username == username))
        return found is not None

    async def list(self, *, within: str, limit: int, offset: int) -> tuple[list[User], int]:
        low, high = subtree_range(within)
        where = [UserRow.region_code >= low, UserRow.region_code < high]
        total = await self.session.scalar(select(func.count()).select_from(UserRow).where(*where))
        rows = await self.session.scalars(
            select(UserRow).where(*where).order_by(UserRow.username).limit(limit).offset(offset)
        )
        return [_user(r) for r in rows.all()], int(total or 0)

    async def update(self, user_id: str, **values: object) -> None:
        mapped = {("region_code" if k == "region" else k): v for k, v in values.items()}
        await self.session.execute(update(UserRow).where(UserRow.id == user_id).values(**mapped))

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        await self.session.execute(
            update(UserRow).where(UserRow.id == user_id).values(password_hash=password_hash)
        )


class TokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, token_hash: str, user_id: str, kind: str, created: datetime, expires: datetime
    ) -> None:
        self.session.add(
            TokenRow(
                token_hash=token_hash,
                user_id=user_id,
                kind=kind,
                created_at=created,
                expires_at=expires,
                revoked=False,
            )
        )

    async def user_for(self, token_hash: str, now: datetime) -> tuple[User, str] | None:
        """The active user behind a live token, and the token's kind."""
        row = await self.session.execute(
            select(UserRow, TokenRow.kind)
            .join(TokenRow, TokenRow.user_id == UserRow.id)
            .where(
                TokenRow.token_hash == token_hash,
                TokenRow.revoked.is_(False),
                TokenRow.expires_at > now,
                UserRow.active.is_(True),
            )
        )
        found = row.first()
        return (_user(found[0]), found[1]) if found else None

    async def revoke(self, token_hash: str) -> None:
        await self.session.execute(
            update(TokenRow).where(TokenRow.token_hash == token_hash).values(revoked=True)
        )

    async def revoke_all(self, user_id: str) -> None:
        await self.session.execute(
            update(TokenRow).where(TokenRow.user_id == user_id).values(revoked=True)
        )

    async def purge_expired(self, now: datetime) -> None:
        await self.session.execute(delete(TokenRow).where(TokenRow.expires_at <= now))
