"""Terminal look-ups for the fleet channel, batched.

After a server restart every screen reconnects within seconds; one query
per socket would queue 10,000 sessions on the pool. Look-ups that arrive
while a query runs wait for the next one, so a storm becomes a few dozen
``IN (...)`` queries and a quiet connect is still answered at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Hashable
from typing import Generic, Protocol, TypeVar

from sqlalchemy import select

from lianbo.adapters.db.tables import TerminalRow
from lianbo.adapters.db.uow import UnitOfWork
from lianbo.adapters.fleet.registry import Peer, Registry
from lianbo.domain.terminals import TerminalStatus
from lianbo.domain.tokens import digest

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
L = TypeVar("L")
BATCH = 500


class Directory(Protocol):
    async def by_token(self, token: str) -> Peer | None:
        """The live terminal holding ``token``; None for unknown or retired."""
        ...

    async def by_ids(self, terminal_ids: Collection[str]) -> dict[str, Peer]:
        """Live terminals among ``terminal_ids``."""
        ...


class Batcher(Generic[K, V]):
    """Coalesce concurrent single-key look-ups into batched fetches."""

    def __init__(
        self, fetch: Callable[[list[K]], Awaitable[dict[K, V]]], size: int = BATCH
    ) -> None:
        self._fetch = fetch
        self._size = size
        self._pending: dict[K, asyncio.Future[V | None]] = {}
        self._draining: asyncio.Task[None] | None = None

    async def get(self, key: K) -> V | None:
        future = self._pending.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._pending[key] = future
            if self._draining is None:
                self._draining = asyncio.create_task(self._drain())
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        try:
            while self._pending:
                keys = list(self._pending)[: self._size]
                futures = [self._pending.pop(k) for k in keys]
                try:
                    found = await self._fetch(keys)
                except Exception as error:
                    for future in futures:
                        if not future.done():
                            future.set_exception(error)
                            future.exception()  # retrieved here: waiters may be gone
                    continue
                for key, future in zip(keys, futures, strict=True):
                    if not future.done():
                        future.set_result(found.get(key))
        finally:
            self._draining = None


class DbDirectory:
    def __init__(self, uows: Callable[[], UnitOfWork]) -> None:
        self._uows = uows
        self._tokens: Batcher[str, Peer] = Batcher(self._by_hashes)

    async def by_token(self, token: str) -> Peer | None:
        return await self._tokens.get(digest(token))

    async def _by_hashes(self, hashes: list[str]) -> dict[str, Peer]:
        query = select(
            TerminalRow.token_hash,
            TerminalRow.id,
            TerminalRow.audience_key,
            TerminalRow.region_code,
        ).where(
            TerminalRow.token_hash.in_(hashes),
            TerminalRow.status != TerminalStatus.RETIRED.value,
        )
        async with self._uows() as uow:
            rows = (await uow.session.execute(query)).all()
        return {h: Peer(i, a, r) for h, i, a, r in rows if h is not None}

    async def by_ids(self, terminal_ids: Collection[str]) -> dict[str, Peer]:
        ids = list(terminal_ids)
        found: dict[str, Peer] = {}
        async with self._uows() as uow:
            for start in range(0, len(ids), BATCH):
                query = select(
                    TerminalRow.id, TerminalRow.audience_key, TerminalRow.region_code
                ).where(
                    TerminalRow.id.in_(ids[start : start + BATCH]),
                    TerminalRow.status != TerminalStatus.RETIRED.value,
                )
                for i, a, r in (await uow.session.execute(query)).all():
                    found[i] = Peer(i, a, r)
        return found


async def refresh(registry: Registry[L], directory: Directory) -> list[tuple[Peer, L]]:
    """Re-file connected terminals whose facts changed (an operator edited
    the region, tier, tags or groups); forget the ones no longer live and
    return them (retired: their links are to be closed)."""
    filed = list(registry)
    found = await directory.by_ids([peer.terminal_id for peer, _ in filed])
    gone = []
    for peer, link in filed:
        if registry.link(peer.terminal_id) is not link:
            continue  # reconnected or left while we looked
        fresh = found.get(peer.terminal_id)
        if fresh is None:
            registry.remove(peer.terminal_id, link)
            gone.append((peer, link))
        elif fresh != peer:
            registry.add(fresh, link)
    return gone
