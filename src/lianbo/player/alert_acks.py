"""Alert acknowledgements: kept (on disk) until the control centre has them.

Each state change of an alert on this screen (``received``, ``verified``,
``displayed``, ``outside-area``, ``failed``, ``cancelled``) becomes one ack
for ``POST /terminal/v1/alerts/{id}/ack``. They go out in the order they
happened, from their own task, so a slow or absent server never holds up
what the screen shows; while the server is down they wait, with jittered
backoff between tries, and survive a restart (like play logs).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from lianbo.player.api import Refused, TerminalApi, Unreachable
from lianbo.player.backoff import Backoff
from lianbo.player.files import write_atomic
from lianbo.player.waits import wait_event
from lianbo.protocol.alerts import ack_body

log = logging.getLogger("lianbo.player")

KEPT_MAX = 2_000
RETRYABLE = (408, 425, 429)  # refusals that may pass later; other 4xx never will


@dataclass(frozen=True, slots=True)
class Ack:
    alert_id: str
    state: str
    at: datetime
    reason: str | None = None

    def body(self) -> dict[str, Any]:
        return ack_body(self.state, self.at, self.reason)

    def as_json(self) -> dict[str, Any]:
        return {"alert_id": self.alert_id, **self.body()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ack:
        return cls(
            alert_id=str(data["alert_id"]),
            state=str(data["state"]),
            at=datetime.fromisoformat(data["at"]),
            reason=data.get("reason"),
        )


class AckBook:
    """Pending acks, oldest first, at most ``limit``; mirrored to ``path``."""

    def __init__(self, path: Path | None = None, limit: int = KEPT_MAX) -> None:
        self.path = path
        self.limit = limit
        self.pending: deque[Ack] = deque()
        self.dropped = 0
        self.added = asyncio.Event()
        if path is not None and path.exists():
            self._load(path)

    def add(self, ack: Ack) -> None:
        self.pending.append(ack)
        while len(self.pending) > self.limit:
            self.pending.popleft()
            self.dropped += 1
        self._save()
        self.added.set()

    def confirm_first(self) -> None:
        """The oldest ack was delivered (or given up on)."""
        if self.pending:
            self.pending.popleft()
            self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        text = "".join(json.dumps(a.as_json(), ensure_ascii=False) + "\n" for a in self.pending)
        write_atomic(self.path, text.encode("utf-8"))

    def _load(self, path: Path) -> None:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                self.pending.append(Ack.from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a power cut
        while len(self.pending) > self.limit:
            self.pending.popleft()


class AckSender:
    """Delivers the book, in order, retrying with backoff until accepted."""

    def __init__(self, book: AckBook, api: TerminalApi, backoff: Backoff) -> None:
        self.book = book
        self.api = api
        self.backoff = backoff
        self.sent = 0
        self.refused = 0

    async def run(self) -> None:
        while True:
            self.book.added.clear()
            try:
                await self.flush()
            except Unreachable as error:
                log.debug("alert acks wait: %s", error)
                await wait_event(self.book.added, self.backoff.next_delay())
                continue
            self.backoff.reset()
            await self.book.added.wait()

    async def flush(self) -> None:
        """Send what is pending. Raises Unreachable when the server is down."""
        while self.book.pending:
            ack = self.book.pending[0]
            try:
                await self.api.alert_ack(ack.alert_id, ack.body())
            except Refused as error:
                if error.status in RETRYABLE:
                    raise Unreachable(str(error)) from None
                log.warning("alert ack %s/%s refused: %s", ack.alert_id, ack.state, error)
                self.refused += 1
            else:
                self.sent += 1
            self.book.confirm_first()
