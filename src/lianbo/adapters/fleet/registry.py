"""Who is connected, indexed for fan-out by audience and by region.

A link is whatever reaches one terminal (a WebSocket, an MQTT topic name);
the registry only files it. One link per terminal: a newer connection of
the same terminal replaces the older one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

L = TypeVar("L")


@dataclass(frozen=True, slots=True)
class Peer:
    """The facts fan-out needs about one terminal."""

    terminal_id: str
    audience_key: str
    region: str


class Registry(Generic[L]):
    def __init__(self) -> None:
        self._links: dict[str, tuple[Peer, L]] = {}
        self._audiences: dict[str, dict[str, L]] = {}
        self._regions: dict[str, dict[str, L]] = {}

    def __len__(self) -> int:
        return len(self._links)

    def __contains__(self, terminal_id: object) -> bool:
        return terminal_id in self._links

    def add(self, peer: Peer, link: L) -> L | None:
        """File ``link`` for ``peer``; the link it replaces, if any."""
        previous = self._links.get(peer.terminal_id)
        if previous is not None:
            self._unfile(*previous)
        self._links[peer.terminal_id] = (peer, link)
        self._audiences.setdefault(peer.audience_key, {})[peer.terminal_id] = link
        self._regions.setdefault(peer.region, {})[peer.terminal_id] = link
        return previous[1] if previous is not None else None

    def remove(self, terminal_id: str, link: L | None = None) -> bool:
        """Forget the terminal (only if ``link`` is still its current link)."""
        found = self._links.get(terminal_id)
        if found is None or (link is not None and found[1] is not link):
            return False
        del self._links[terminal_id]
        self._unfile(*found)
        return True

    def _unfile(self, peer: Peer, link: L) -> None:
        for index, key in ((self._audiences, peer.audience_key), (self._regions, peer.region)):
            members = index.get(key)
            if members is not None and members.get(peer.terminal_id) is link:
                del members[peer.terminal_id]
                if not members:
                    del index[key]

    def ids(self) -> set[str]:
        return set(self._links)

    def link(self, terminal_id: str) -> L | None:
        found = self._links.get(terminal_id)
        return found[1] if found else None

    def peer(self, terminal_id: str) -> Peer | None:
        found = self._links.get(terminal_id)
        return found[0] if found else None

    def links(self, terminal_ids: Iterable[str]) -> list[L]:
        found = (self._links.get(t) for t in terminal_ids)
        return [f[1] for f in found if f is not None]

    def audience(self, audience_key: str) -> list[L]:
        return list(self._audiences.get(audience_key, {}).values())

    def within(self, region_prefix: str) -> list[L]:
        """Links of every terminal in the subtree of a short-form region code."""
        return [
            link
            for region, members in self._regions.items()
            if region.startswith(region_prefix)
            for link in members.values()
        ]

    def __iter__(self) -> Iterator[tuple[Peer, L]]:
        return iter(list(self._links.values()))
