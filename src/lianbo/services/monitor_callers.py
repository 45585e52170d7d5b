"""Who is calling: terminal tokens to terminals, and the facts monitoring
labels their reports with (name, tier, region, audience), their audience's
programme and their assets' hash tracks — each cached so that a heartbeat,
a play log or a screenshot from a known screen costs no database read.

One ``Callers`` per server process (``container.monitor.callers``). The
token → terminal cache itself is the manifest cache's (shared with the
manifest fast path); edits, retirements and re-enrolments forget there
and here (``services/handlers.py``, on every process).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lianbo.adapters.db.repos.monitoring import TrackFacts
from lianbo.adapters.db.uow import UnitOfWork
from lianbo.config import Settings
from lianbo.domain.errors import Unauthorized
from lianbo.domain.monitoring.records import ScreenFacts
from lianbo.domain.targeting import Audience
from lianbo.domain.terminals import Terminal
from lianbo.domain.tokens import digest
from lianbo.services import manifests, programme
from lianbo.services.manifest_cache import Holder

if TYPE_CHECKING:
    from lianbo.services.context import Context

PROGRAMME_TTL_S = 5.0


@dataclass(frozen=True, slots=True)
class Caller:
    """A terminal behind a token, with what monitoring labels records with."""

    screen: ScreenFacts
    audience_key: str
    audience: dict[str, Any]  # the heartbeat reply carries it (player audience check)


class Callers:
    """The caches described in the module docstring."""

    def __init__(self, settings: Settings, uows: Callable[[], UnitOfWork]) -> None:
        self.settings = settings
        self.uows = uows
        self._facts: dict[str, tuple[ScreenFacts, dict[str, Any], float, str]] = {}
        self._programmes: dict[str, tuple[programme.Programme | None, float]] = {}
        self._tracks: dict[str, TrackFacts | None] = {}

    def forget(self, terminal_id: str) -> None:
        """Drop a terminal's facts (it was edited, retired or re-enrolled)."""
        self._facts.pop(terminal_id, None)

    def clear(self) -> None:
        """Drop every fact and programme (the bus reconnected: an event may
        have been missed); tracks never change once analysed, so they stay."""
        self._facts.clear()
        self._programmes.clear()

    async def caller(self, container: Context, token: str | None) -> Caller:
        """The terminal behind a terminal token (cached like the manifest fast path)."""
        if not token:
            raise Unauthorized("missing terminal token")
        token_hash = digest(token)
        holder = container.manifest_cache.terminal(token_hash)
        if holder is None:
            async with self.uows() as uow:
                terminal = await uow.terminals.by_token_hash(token_hash)
            if terminal is None:
                raise Unauthorized("unknown or revoked terminal token")
            holder = Holder(terminal.id, Audience.of(terminal).key())
            container.manifest_cache.remember_terminal(token_hash, holder)
            self._remember(terminal)
        screen, audience = await self.screen(holder.terminal_id, holder.audience_key)
        return Caller(screen, holder.audience_key, audience)

    def cached_caller(self, container: Context, token_hash: str) -> Caller | None:
        """The caller when both caches know it (the heartbeat fast path), else None."""
        holder = container.manifest_cache.terminal(token_hash)
        cached = self._facts.get(holder.terminal_id) if holder is not None else None
        if holder is None or cached is None or cached[2] <= time.monotonic():
            return None
        if cached[3] != holder.audience_key:  # edited since: re-read the facts
            return None
        return Caller(cached[0], holder.audience_key, cached[1])

    async def screen(
        self, terminal_id: str, audience_key: str | None = None
    ) -> tuple[ScreenFacts, dict[str, Any]]:
        """A terminal's facts and audience, cached as long as the token cache
        keeps tokens (an edit or retirement forgets the token; reading it again
        refreshes these), or until the manifest cache files it under another
        ``audience_key``: an operator edited it, and its player must learn the
        new audience."""
        cached = self._facts.get(terminal_id)
        fresh = audience_key is None or (cached is not None and cached[3] == audience_key)
        if cached is not None and cached[2] > time.monotonic() and fresh:
            return cached[0], cached[1]
        async with self.uows() as uow:
            terminal = await uow.terminals.get(terminal_id)
        if terminal is None or terminal.status.value == "retired":
            raise Unauthorized("unknown or revoked terminal token")
        return self._remember(terminal)

    def _remember(self, terminal: Terminal) -> tuple[ScreenFacts, dict[str, Any]]:
        screen = ScreenFacts(
            terminal.id, terminal.name, terminal.tier.value, terminal.region, terminal.status.value
        )
        facts = Audience.of(terminal)
        audience = facts.as_json()
        expires = time.monotonic() + self.settings.terminal_cache_minutes * 60.0
        self._facts[terminal.id] = (screen, audience, expires, facts.key())
        return screen, audience

    async def programme(self, container: Context, audience_key: str) -> programme.Programme | None:
        """The audience's programme (built now if no manifest was yet, as the
        manifest route does; cached for ``PROGRAMME_TTL_S``)."""
        cached = self._programmes.get(audience_key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        async with self.uows() as uow:
            found = await programme.load(uow, audience_key)
        if found is None:
            await manifests.rebuild(container, {audience_key})
            async with self.uows() as uow:
                found = await programme.load(uow, audience_key)
        self._programmes[audience_key] = (found, time.monotonic() + PROGRAMME_TTL_S)
        return found

    async def track(self, asset_id: str) -> TrackFacts | None:
        """An asset's track (cached: a track never changes once analysed)."""
        if asset_id in self._tracks:
            return self._tracks[asset_id]
        async with self.uows() as uow:
            found = await uow.monitoring.track(asset_id)
        if found is not None and found.track:
            self._tracks[asset_id] = found
        return found
