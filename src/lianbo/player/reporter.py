"""Play logs (proof of play): kept until the control centre has them.

Entries wait in a bounded book, mirrored to a JSON-lines file so a restart
or a power cut loses none, and go out in batches to
``POST /terminal/v1/playlog``. A server without that endpoint yet (404)
keeps them for later; a server that is down keeps them too. When the book
is full the oldest entries go first (and are counted as dropped).
"""

from __future__ import annotations

import json
import logging
from collections import deque
from pathlib import Path
from typing import Protocol

from lianbo.player.api import Refused, TerminalApi
from lianbo.player.files import write_atomic
from lianbo.protocol.reports import PLAYLOG_BATCH_MAX, PlayLogEntry

log = logging.getLogger("lianbo.player")

KEPT_MAX = 10_000
UNACCEPTABLE = (400, 413, 422)  # the server will never take this batch: drop it


class Reporter(Protocol):
    """Where play-log entries go."""

    def record(self, entry: PlayLogEntry) -> None: ...

    async def flush(self) -> None: ...


class PlayLogBook:
    """Pending entries, oldest first, at most ``limit``; optionally on disk."""

    def __init__(self, path: Path | None = None, limit: int = KEPT_MAX) -> None:
        self.path = path
        self.limit = limit
        self.dropped = 0
        self.pending: deque[PlayLogEntry] = deque()
        self._lines_on_disk = 0
        if path is not None and path.exists():
            self._load(path)

    def record(self, entry: PlayLogEntry) -> None:
        self.pending.append(entry)
        if len(self.pending) > self.limit:
            self.pending.popleft()
            self.dropped += 1
        if self.path is None:
            return
        if self._lines_on_disk >= 2 * self.limit:
            self._rewrite()  # keep the file bounded too
        else:
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry.as_json(), ensure_ascii=False) + "\n")
            self._lines_on_disk += 1

    def batch(self, size: int = PLAYLOG_BATCH_MAX) -> list[PlayLogEntry]:
        return list(self.pending)[:size]

    def confirm(self, count: int) -> None:
        """The first ``count`` entries were delivered (or given up on)."""
        for _ in range(min(count, len(self.pending))):
            self.pending.popleft()
        self._rewrite()

    def _rewrite(self) -> None:
        if self.path is None:
            return
        text = "".join(json.dumps(e.as_json(), ensure_ascii=False) + "\n" for e in self.pending)
        write_atomic(self.path, text.encode("utf-8"))
        self._lines_on_disk = len(self.pending)

    def _load(self, path: Path) -> None:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                self.pending.append(PlayLogEntry.from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a power cut
        while len(self.pending) > self.limit:
            self.pending.popleft()
            self.dropped += 1
        self._lines_on_disk = len(self.pending)


class HttpReporter:
    """Sends the book in batches; keeps what could not be sent."""

    def __init__(self, book: PlayLogBook, api: TerminalApi) -> None:
        self.book = book
        self.api = api
        self.sent = 0
        self._missing_logged = False

    def record(self, entry: PlayLogEntry) -> None:
        self.book.record(entry)

    async def flush(self) -> None:
        """Send what is pending. Raises Unreachable when the server is down."""
        while batch := self.book.batch():
            try:
                taken = await self.api.playlog(batch)
            except Refused as error:
                if error.status not in UNACCEPTABLE:
                    log.warning("play log refused (%s); kept for later", error)
                    return
                log.warning("play log batch dropped, the server refuses it: %s", error)
                self.book.confirm(len(batch))
                continue
            if taken is None:
                if not self._missing_logged:
                    log.info("the server takes no play logs yet; keeping them")
                    self._missing_logged = True
                return
            self.book.confirm(len(batch))
            self.sent += len(batch)
