"""Idempotency keys in the store (ADR 0015)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.shared_tables import IdempotencyKeyRow
from lianbo.domain.idempotency import Claim, KeptKey, Outcome, in_progress

# PostgreSQL's lock_not_available: the lock_timeout below ran out.
_LOCK_NOT_AVAILABLE = "55P03"


class KeyTaken(Exception):
    """Another request kept this key first (it committed while this one
    waited). The transaction is spoiled; read its outcome in a new one."""


class IdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: str, key: str) -> KeptKey | None:
        row = await self.session.get(IdempotencyKeyRow, (user_id, key), populate_existing=True)
        if row is None:
            return None
        return KeptKey(
            claim=Claim(row.user_id, row.key, row.act, row.fingerprint),
            outcome=Outcome(row.status, row.resource_id),
            created_at=row.created_at,
            expires_at=row.expires_at,
        )

    async def add(
        self, claim: Claim, outcome: Outcome, now: datetime, expires: datetime, wait_s: float
    ) -> None:
        """Keep the key in this transaction. On PostgreSQL a request holding the
        same key uncommitted makes this wait (the primary key's lock) at most
        ``wait_s``: then ``KeyInProgress``; ``KeyTaken`` once it committed."""
        values = {
            "user_id": claim.user_id,
            "key": claim.key,
            "act": claim.act,
            "fingerprint": claim.fingerprint,
            "status": outcome.status,
            "resource_id": outcome.resource_id,
            "created_at": now,
            "expires_at": expires,
        }
        postgres = self.session.get_bind().dialect.name == "postgresql"
        if postgres:  # SET takes no bind parameters; wait_s is a float we made
            await self.session.execute(text(f"SET LOCAL lock_timeout = {int(wait_s * 1000)}"))
        try:
            await self.session.execute(insert(IdempotencyKeyRow), [values])
        except IntegrityError:
            raise KeyTaken(claim.key) from None
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
                raise in_progress() from None
            raise
        if postgres:  # the rest of the act waits on locks as it always did
            await self.session.execute(text("SET LOCAL lock_timeout = DEFAULT"))

    async def forget(self, user_id: str, key: str) -> None:
        """Drop one (expired) key so it can be used afresh."""
        await self.session.execute(
            delete(IdempotencyKeyRow).where(
                IdempotencyKeyRow.user_id == user_id, IdempotencyKeyRow.key == key
            )
        )

    async def prune(self, before: datetime) -> int:
        """Forget keys that expired before ``before``; how many."""
        result = await self.session.execute(
            delete(IdempotencyKeyRow).where(IdempotencyKeyRow.expires_at <= before)
        )
        return int(getattr(result, "rowcount", 0) or 0)
