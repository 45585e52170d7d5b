"""In-process caches for the terminal fast paths: who is a token, and what
is an audience's current manifest version.

Screens poll ``GET /terminal/v1/manifest`` with ``If-None-Match`` (nearly
every answer is 304) and beat every 30 s; answering both from memory keeps
them off the database. Which terminal holds a token, and its audience,
changes only when an operator acts, so the token cache is long-lived
(``LIANBO_TERMINAL_CACHE_MINUTES``, default 6 h, at most ``TERMINAL_MAX``
entries, least recently used evicted) and every change is pushed into it:
whatever retires a terminal, re-enrols it (a new token) or edits its
audience records an event whose handler calls ``forget_terminal`` on every
process (``services/handlers.py``; between processes over the bus). A
process that reconnects to the bus may have missed one, so it ``clear``s
the cache. Versions stay short-lived, and a publish on any process sets
the new version on every process (``ManifestsChanged``).

Published versions (``GET /manifests/<audience>/<version>``, ADR 0024) are
immutable: the signed envelope of each is kept once answered (at most
``DOCUMENTS_MAX``, least recently used evicted), so the screens that reach
the origin directly (no edge in front) cost no store read each.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

TERMINAL_TTL_S = 6 * 3600.0
TERMINAL_MAX = 250_000  # ~100 MB at most; a fleet larger than this re-reads its coldest tokens
VERSION_TTL_S = 2.0
DOCUMENTS_MAX = 256  # signed envelopes of published versions (tens of KB each)


@dataclass(frozen=True, slots=True)
class Holder:
    terminal_id: str
    audience_key: str


class ManifestCache:
    def __init__(
        self, terminal_ttl_s: float = TERMINAL_TTL_S, terminal_max: int = TERMINAL_MAX
    ) -> None:
        self.terminal_ttl_s = terminal_ttl_s
        self.terminal_max = terminal_max
        self._terminals: OrderedDict[str, tuple[Holder, float]] = OrderedDict()
        self._tokens_of: dict[str, set[str]] = {}  # terminal id -> its cached token hashes
        self._versions: dict[str, tuple[str, float]] = {}
        self._documents: OrderedDict[tuple[str, str], str] = OrderedDict()

    def terminal(self, token_hash: str) -> Holder | None:
        """The terminal behind a token hash, if cached and not expired."""
        found = self._terminals.get(token_hash)
        if found is None:
            return None
        if found[1] < time.monotonic():
            self._drop(token_hash)
            return None
        self._terminals.move_to_end(token_hash)
        return found[0]

    def remember_terminal(self, token_hash: str, holder: Holder) -> None:
        if token_hash in self._terminals:
            self._drop(token_hash)
        self._terminals[token_hash] = (holder, time.monotonic() + self.terminal_ttl_s)
        self._tokens_of.setdefault(holder.terminal_id, set()).add(token_hash)
        while len(self._terminals) > self.terminal_max:
            self._drop(next(iter(self._terminals)))

    def forget_terminal(self, terminal_id: str) -> None:
        """Drop every cached token of a terminal: the next request reads the
        store (a retired or re-enrolled terminal's old token is refused, an
        edited terminal gets its new audience)."""
        for token_hash in self._tokens_of.pop(terminal_id, set()):
            self._terminals.pop(token_hash, None)

    def clear(self) -> None:
        """Forget everything (the bus reconnected: an event may have been missed)."""
        self._terminals.clear()
        self._tokens_of.clear()
        self._versions.clear()

    def _drop(self, token_hash: str) -> None:
        holder, _ = self._terminals.pop(token_hash)
        hashes = self._tokens_of.get(holder.terminal_id)
        if hashes is not None:
            hashes.discard(token_hash)
            if not hashes:
                del self._tokens_of[holder.terminal_id]

    def version(self, audience_key: str) -> str | None:
        found = self._versions.get(audience_key)
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]

    def remember_version(self, audience_key: str, version: str) -> None:
        self._versions[audience_key] = (version, time.monotonic() + VERSION_TTL_S)

    def document(self, audience_key: str, version: str) -> str | None:
        """The signed envelope of a published version, if answered before."""
        found = self._documents.get((audience_key, version))
        if found is not None:
            self._documents.move_to_end((audience_key, version))
        return found

    def remember_document(self, audience_key: str, version: str, envelope: str) -> None:
        self._documents[(audience_key, version)] = envelope
        while len(self._documents) > DOCUMENTS_MAX:
            self._documents.popitem(last=False)

    def forget_documents(self) -> None:
        """The key set changed: versions are signed anew (same version, new
        signature), so the kept envelopes are read again from the store."""
        self._documents.clear()
