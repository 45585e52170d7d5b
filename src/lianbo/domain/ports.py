"""Interfaces the core needs from the outside world."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from lianbo.protocol.messages import Message


class Clock(Protocol):
    """Source of the current time (always timezone-aware UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FleetChannel(Protocol):
    """The push channel to terminals: the built-in WebSocket hub or an MQTT
    broker (``LIANBO_FLEET``); callers cannot tell which one is in use.

    Delivery is best effort, at most once: a screen that misses a push
    catches up when it reconnects (a player fetches its manifest then).
    Nothing here raises for a transport failure; failures are logged.
    """

    async def start(self) -> None:
        """Begin background work (presence reports, broker connection)."""
        ...

    async def stop(self) -> None: ...

    def online(self) -> set[str]:
        """Ids of the terminals connected right now."""
        ...

    async def send(self, terminal_ids: Iterable[str], message: Message) -> int:
        """Push ``message`` to these terminals; how many it was handed to."""
        ...

    async def publish_region(self, region_code: str, message: Message) -> None:
        """One publish reaching every terminal whose region lies in the subtree
        of ``region_code`` (short or full GB/T 2260 form)."""
        ...

    async def manifest_changed(self, versions: Mapping[str, str]) -> int:
        """Tell the connected terminals of each audience (key → new manifest
        version) to fetch it; how many terminals were told."""
        ...

    async def drop(self, terminal_id: str, *, revoked: bool) -> bool:
        """End the terminal's live connection now: its token was revoked
        (retired, re-enrolled) or its facts changed (it reconnects and is
        filed afresh). Whether there was one this channel could end."""
        ...
