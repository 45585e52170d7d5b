"""The control centre's public keys and signed key sets (ADR 0014)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.shared_tables import KeySetRow, SigningKeyRow
from lianbo.domain.errors import Conflict


class SigningKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def current(self) -> tuple[str, dict[str, str]] | None:
        """The newest key set: its signed text and signatures by key id."""
        row = await self.session.scalar(
            select(KeySetRow).order_by(KeySetRow.serial.desc()).limit(1)
        )
        if row is None:
            return None
        return row.key_set, {str(k): str(v) for k, v in row.signatures.items()}

    async def add_set(
        self, serial: int, issued_at: datetime, text: str, signatures: dict[str, str]
    ) -> None:
        """Store a new set; Conflict when another process stored that serial first."""
        self.session.add(
            KeySetRow(serial=serial, issued_at=issued_at, key_set=text, signatures=signatures)
        )
        try:
            await self.session.flush()
        except IntegrityError:
            raise Conflict("the key set changed meanwhile; try again") from None

    async def add_keys(self, publics: dict[str, str], at: datetime) -> None:
        """Record public keys not known yet."""
        known = set(
            await self.session.scalars(
                select(SigningKeyRow.key_id).where(SigningKeyRow.key_id.in_(publics))
            )
        )
        for key_id, public in publics.items():
            if key_id not in known:
                self.session.add(
                    SigningKeyRow(key_id=key_id, public_key=public, added_at=at, retired_at=None)
                )
        await self.session.flush()

    async def retire_others(self, kept: set[str], at: datetime) -> None:
        """Every key not in ``kept`` (the new set) is retired from now on."""
        await self.session.execute(
            update(SigningKeyRow)
            .where(SigningKeyRow.key_id.not_in(kept), SigningKeyRow.retired_at.is_(None))
            .values(retired_at=at)
        )

    async def publics(self) -> dict[str, str]:
        """Every public key ever used (current and retired), by key id."""
        rows = await self.session.execute(select(SigningKeyRow.key_id, SigningKeyRow.public_key))
        return {str(key_id): str(public) for key_id, public in rows}

    async def retired(self) -> list[str]:
        rows = await self.session.scalars(
            select(SigningKeyRow.key_id)
            .where(SigningKeyRow.retired_at.is_not(None))
            .order_by(SigningKeyRow.key_id)
        )
        return list(rows)
