"""Failed logins, counted in the store so every process sees them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.shared_tables import LoginFailureRow


class LoginFailureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def since(self, key: str, since: datetime) -> tuple[int, datetime | None]:
        """How many failures ``key`` had after ``since``, and the oldest of
        them: one range seek on (key, failed_at)."""
        row = (
            await self.session.execute(
                select(func.count(), func.min(LoginFailureRow.failed_at)).where(
                    LoginFailureRow.key == key, LoginFailureRow.failed_at > since
                )
            )
        ).one()
        return int(row[0]), row[1]

    async def add(self, key: str, at: datetime) -> None:
        self.session.add(LoginFailureRow(key=key, failed_at=at))
        await self.session.flush()

    async def clear(self, key: str) -> None:
        await self.session.execute(delete(LoginFailureRow).where(LoginFailureRow.key == key))

    async def prune(self, before: datetime) -> None:
        """Forget failures older than the window (all keys; ranged on failed_at)."""
        await self.session.execute(
            delete(LoginFailureRow).where(LoginFailureRow.failed_at <= before)
        )
