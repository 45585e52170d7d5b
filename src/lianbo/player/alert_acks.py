"""Alert acknowledgements: kept (on disk) until the control centre has them.

Each state change of an alert on this screen (``received``, ``verified``,
``displayed``, ``outside-area``, ``failed``, ``cancelled``) becomes one ack.
They go out in the order they happened, from their own task, so a slow or
absent server never holds up what the screen shows; while the server is
down they wait, with jittered backoff between tries, and survive a restart
(like play logs).

While the push channel is up they go over it (an ``alert-ack`` message,
``protocol/alerts.py``): up to ``WINDOW`` at once, in order, each answered
after the server's commit; an ack leaves the book only when answered (or
refused for good). No answer within ``reply_seconds``: HTTP
(``POST /terminal/v1/alerts/{id}/ack``) instead, and the channel is left
alone for acks for ``quiet_seconds``. The channel reconnecting while acks
wait for their answers sends them again on the new connection (the store
never moves an ack backwards, so one applied twice is harmless). Without
a channel, HTTP as before.

A new ack waits a moment (uniform in ``spread_seconds``) before it goes:
after an alert 10,000 screens say ``displayed`` within the same second
otherwise, on the processes still fanning the alert out. Acks that queued
meanwhile go together, and one a later ack of the same alert implies
(``received`` then ``displayed``: the store fills the moments a state
skipped) is not sent at all — the pair is one message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from lianbo.domain.alerting.deliveries import MOMENTS, DeliveryState
from lianbo.player.api import Refused, TerminalApi, Unreachable
from lianbo.player.backoff import Backoff
from lianbo.player.files import write_atomic
from lianbo.player.waits import wait_event
from lianbo.protocol.alerts import AckAnswer, ChannelAck, ack_answer, ack_body
from lianbo.protocol.messages import Message

log = logging.getLogger("lianbo.player")

KEPT_MAX = 2_000
RETRYABLE = (408, 425, 429)  # refusals that may pass later; other 4xx never will
WINDOW = 32  # acks on the channel awaiting their answers at once


def new_ref() -> str:
    """The screen's own id for one ack (echoed in the server's answer)."""
    return secrets.token_hex(8)


@dataclass(frozen=True, slots=True)
class Ack:
    alert_id: str
    state: str
    at: datetime
    reason: str | None = None
    ref: str = field(default_factory=new_ref)

    def body(self) -> dict[str, Any]:
        return ack_body(self.state, self.at, self.reason)

    def message(self) -> Message:
        """The ``alert-ack`` for the push channel."""
        return Message(
            "alert-ack", ChannelAck(self.ref, self.alert_id, self.state, self.reason).body()
        )

    def as_json(self) -> dict[str, Any]:
        return {"alert_id": self.alert_id, **self.body(), "ref": self.ref}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ack:
        ref = data.get("ref")
        return cls(
            alert_id=str(data["alert_id"]),
            state=str(data["state"]),
            at=datetime.fromisoformat(data["at"]),
            reason=data.get("reason"),
            ref=ref if isinstance(ref, str) and ref else new_ref(),  # a book from before refs
        )


class Channel(Protocol):
    """``PushChannel`` (WebSocket or MQTT): whether it is up, and sending on it."""

    @property
    def connected(self) -> bool: ...

    async def send(self, message: Message) -> bool: ...


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

    def collapse(self) -> int:
        """Drop each ack a later one of the same alert implies (``received``
        or ``verified`` before ``displayed``: the store stamps the moments a
        state skipped); how many were dropped."""
        implied: dict[str, set[str]] = {}  # alert id -> states later acks imply
        kept: deque[Ack] = deque()
        for ack in reversed(self.pending):
            if ack.reason is None and ack.state in implied.get(ack.alert_id, ()):
                continue
            kept.appendleft(ack)
            implied.setdefault(ack.alert_id, set()).update(_implies(ack.state))
        dropped = len(self.pending) - len(kept)
        if dropped:
            self.pending = kept
            self._save()
        return dropped

    def confirm(self, refs: set[str]) -> None:
        """The oldest acks whose refs are given were delivered (or given up
        on); one write. By ref, not by count: acks dropped over ``limit``
        meanwhile must not make it forget others."""
        done = 0
        while self.pending and self.pending[0].ref in refs:
            self.pending.popleft()
            done += 1
        if done:
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


def _implies(state: str) -> tuple[str, ...]:
    """The earlier states an ack of ``state`` stamps too (none for unknown ones)."""
    try:
        moments = MOMENTS[DeliveryState(state)]
    except ValueError:
        return ()
    return tuple(m.value for m in moments if m.value != state)


class AckSender:
    """Delivers the book, in order, retrying with backoff until accepted:
    over the push channel while it answers, else over HTTP (module doc)."""

    def __init__(
        self,
        book: AckBook,
        api: TerminalApi,
        backoff: Backoff,
        push: Channel | None = None,
        *,
        reply_seconds: float = 5.0,
        quiet_seconds: float = 300.0,
        spread_seconds: float = 0.0,
        rng: random.Random | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.book = book
        self.api = api
        self.backoff = backoff
        self.push = push
        self.reply_seconds = reply_seconds
        self.quiet_seconds = quiet_seconds
        self.spread_seconds = spread_seconds
        self.rng = rng or random.Random()
        self.monotonic = monotonic
        self.merged = 0  # acks not sent: a later one of the same alert implied them
        self.sent = 0
        self.refused = 0
        self.via = {"channel": 0, "http": 0}  # acks the server took, by path
        self._quiet_until = 0.0
        self._answers: dict[str, AckAnswer] = {}  # by ref, for the acks in flight
        self._in_flight: set[str] = set()
        self._heard = asyncio.Event()  # an answer came, or the channel reconnected

    async def run(self) -> None:
        while True:
            self.book.added.clear()
            if self.book.pending and self.spread_seconds > 0:
                await asyncio.sleep(self.rng.uniform(0, self.spread_seconds))
            try:
                await self.flush()
            except Unreachable as error:
                log.debug("alert acks wait: %s", error)
                await wait_event(self.book.added, self.backoff.next_delay())
                continue
            self.backoff.reset()
            await self.book.added.wait()

    async def flush(self) -> None:
        """Send what is pending. Raises Unreachable when the server is down
        (or asks for the acks again later)."""
        if self.spread_seconds > 0:  # what queued within the spread goes as one
            self.merged += self.book.collapse()
        while self.book.pending:
            if not await self._over_channel():
                await self._over_http(self.book.pending[0])

    def answer(self, body: dict[str, Any]) -> None:
        """An ``alert-ack`` message from the channel: the answer to one we sent."""
        answer = ack_answer(body)
        if answer is not None and answer.ref in self._in_flight:
            self._answers[answer.ref] = answer
            self._heard.set()

    def reconnected(self) -> None:
        """The channel is back (perhaps to another server): acks waiting for an
        answer are sent again on it, and the channel is tried again."""
        self._quiet_until = 0.0
        self._in_flight.clear()
        self._heard.set()

    async def _over_channel(self) -> bool:
        """Send a window of acks up the channel and take in the answers; False
        when the channel is not there or did not answer (HTTP, then)."""
        push = self.push
        if push is None or not push.connected or self.monotonic() < self._quiet_until:
            return False
        window = list(self.book.pending)[:WINDOW]
        self._answers.clear()
        self._in_flight = {ack.ref for ack in window}
        for ack in window:
            if not await push.send(ack.message()):
                self._in_flight.clear()
                return False
        deadline = self.monotonic() + self.reply_seconds
        while self._in_flight and not self._answers.keys() >= self._in_flight:
            self._heard.clear()
            if not await wait_event(self._heard, deadline - self.monotonic()):
                break
        resend = not self._in_flight  # reconnected meanwhile
        answered = self._settle(window)
        self._in_flight.clear()
        if answered or resend:
            return True
        log.info("no alert ack answer on the push channel; using HTTP for a while")
        self._quiet_until = self.monotonic() + self.quiet_seconds
        return False

    def _settle(self, window: list[Ack]) -> int:
        """Confirm the answered run at the front of the window; how many were
        answered. Raises Unreachable when the server asked to wait."""
        done: set[str] = set()
        retry: AckAnswer | None = None
        for ack in window:
            answer = self._answers.get(ack.ref)
            if answer is None:
                break
            if not answer.final:
                retry = answer
                break
            self._count(ack, answer)
            done.add(ack.ref)
        self.book.confirm(done)
        if retry is not None:
            raise Unreachable(f"alert acks refused for now: {retry.message}")
        return len(done)

    def _count(self, ack: Ack, answer: AckAnswer) -> None:
        if answer.refused is None:
            self.sent += 1
            self.via["channel"] += 1
            return
        log.warning("alert ack %s/%s refused: %s", ack.alert_id, ack.state, answer.message)
        self.refused += 1

    async def _over_http(self, ack: Ack) -> None:
        try:
            await self.api.alert_ack(ack.alert_id, ack.body())
        except Refused as error:
            if error.status in RETRYABLE:
                raise Unreachable(str(error)) from None
            log.warning("alert ack %s/%s refused: %s", ack.alert_id, ack.state, error)
            self.refused += 1
        else:
            self.sent += 1
            self.via["http"] += 1
        self.book.confirm_first()
