"""In-process cache for the manifest fast path.

Screens poll ``GET /terminal/v1/manifest`` with ``If-None-Match``; nearly
every answer is 304. Answering those from memory (who is this token, what is
its audience's current version) keeps a poll off the database. Entries are
short-lived, so several server processes converge within seconds, and a
retired terminal is forgotten at once by the process that retired it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

TERMINAL_TTL_S = 60.0
VERSION_TTL_S = 2.0


@dataclass(frozen=True, slots=True)
class Holder:
    terminal_id: str
    audience_key: str


class ManifestCache:
    def __init__(self) -> None:
        self._terminals: dict[str, tuple[Holder, float]] = {}
        self._versions: dict[str, tuple[str, float]] = {}

    def terminal(self, token_hash: str) -> Holder | None:
        found = self._terminals.get(token_hash)
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]

    def remember_terminal(self, token_hash: str, holder: Holder) -> None:
        self._terminals[token_hash] = (holder, time.monotonic() + TERMINAL_TTL_S)

    def forget_terminal(self, terminal_id: str) -> None:
        for token_hash in [
            t for t, (h, _) in self._terminals.items() if h.terminal_id == terminal_id
        ]:
            del self._terminals[token_hash]

    def version(self, audience_key: str) -> str | None:
        found = self._versions.get(audience_key)
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]

    def remember_version(self, audience_key: str, version: str) -> None:
        self._versions[audience_key] = (version, time.monotonic() + VERSION_TTL_S)
