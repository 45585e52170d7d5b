"""Alert acks that came up the fleet channel, into the store's group commits.

A screen's ``alert-ack`` message (``protocol/alerts.py``) is the body of
``POST /terminal/v1/alerts/{id}/ack`` without an HTTP request: it joins the
process's ack batcher (``services/alert_acks.AckBatcher``, ADR 0017) like
the HTTP ones, and once the batch holding it commits the outcome goes back
on the channel (``reply``), echoing the screen's ``ref`` so it can forget
the ack. Nothing waits per ack here: no task, a callback on the batcher's
future. Which screen acked is the channel's word (the socket's token, the
MQTT topic the broker let it write), never the message's.

Whichever process reads the message writes it: a hub socket is held by one
process, and MQTT's ``up`` is a shared subscription (one process gets
each message).

While a fan-out is being written (``hold`` … ``release``: the hub brackets
each push with them) acks that come in wait here, unsubmitted: the loop
and the store are the push's first, and the acks go on in one batch after
it. A screen's ``displayed`` is worth nothing before the other screens have
the alert.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

import structlog

from lianbo.domain.errors import DomainError
from lianbo.protocol.alerts import AckAnswer, ChannelAck, channel_ack
from lianbo.protocol.messages import Message

log = structlog.get_logger()

IN_FLIGHT_MAX = 50_000  # acks waiting for their batch, per process; beyond: "retry"
RETRY_AFTER_S = 1.0

Reply = Callable[[str, Message], None]


class AlertAcks(Protocol):
    """Where alert acks go (``services.alert_acks.AckBatcher``)."""

    def submit(
        self, terminal_id: str, alert_id: str, state: str, reason: str | None = None
    ) -> asyncio.Future[Any]:
        """Queue one ack; the future holds an ``Acked`` (``state``,
        ``changed``) or a ``DomainError`` once its batch commits. Raises a
        ``DomainError`` for a bad state, another exception when closing."""
        ...


class ChannelAcks:
    """Hands channel acks to the batcher and answers each on the channel."""

    def __init__(self, acks: AlertAcks, reply: Reply) -> None:
        self._acks = acks
        self._reply = reply
        self._waiting: set[asyncio.Future[Any]] = set()
        self._holds = 0  # fan-outs under way
        self._held: list[tuple[str, ChannelAck]] = []  # acks that came meanwhile
        self.counts: Counter[str] = Counter()  # taken, stored, refused (dropped: Inbox)

    def take(self, terminal_id: str, body: dict[str, Any]) -> Message | None:
        """One ``alert-ack`` from ``terminal_id``: a refusal to send now, or
        None (the answer follows the commit). ValueError when malformed."""
        ack = channel_ack(body)
        self.counts["taken"] += 1
        if len(self._waiting) + len(self._held) >= IN_FLIGHT_MAX:
            return self._refuse(ack, "busy", "too many acks waiting", RETRY_AFTER_S)
        if self._holds:
            self._held.append((terminal_id, ack))
            return None
        return self._submit(terminal_id, ack)

    def hold(self) -> None:
        """A fan-out starts: acks wait until it is written (``release``)."""
        self._holds += 1

    def release(self) -> None:
        """A fan-out is written; the last one hands the held acks on."""
        self._holds = max(0, self._holds - 1)
        if self._holds:
            return
        held, self._held = self._held, []
        for terminal_id, ack in held:
            refusal = self._submit(terminal_id, ack)
            if refusal is not None:
                self._reply(terminal_id, refusal)

    def _submit(self, terminal_id: str, ack: ChannelAck) -> Message | None:
        try:
            done = self._acks.submit(terminal_id, ack.alert_id, ack.state, ack.reason)
        except DomainError as error:  # an unknown state: never passes
            return self._refuse(ack, error.code, error.message, None)
        except Exception:  # the process is stopping: ack again (elsewhere)
            return self._refuse(ack, "unavailable", "shutting down", RETRY_AFTER_S)
        self._waiting.add(done)
        done.add_done_callback(partial(self._stored, terminal_id, ack))
        return None

    async def settle(self) -> None:
        """Wait for the acks taken to be stored and answered (at a stop)."""
        if self._held:  # a fan-out still under way: they are not kept waiting
            self._holds = 1
            self.release()
        if self._waiting:
            await asyncio.gather(*list(self._waiting), return_exceptions=True)

    def _stored(self, terminal_id: str, ack: ChannelAck, done: asyncio.Future[Any]) -> None:
        self._waiting.discard(done)
        if done.cancelled():
            answer = _refusal(ack, "unavailable", "not stored", RETRY_AFTER_S)
        elif isinstance(error := done.exception(), DomainError):
            answer = _refusal(ack, error.code, error.message, None)
        elif error is not None:  # the store failed the batch and the retry alone
            log.info("alert ack not stored", terminal_id=terminal_id, error=str(error)[:200])
            answer = _refusal(ack, "unavailable", "try again later", RETRY_AFTER_S)
        else:
            outcome = done.result()
            if isinstance(outcome, DomainError):
                answer = _refusal(ack, outcome.code, outcome.message, None)
            else:
                answer = AckAnswer(ack.ref, ack.alert_id, outcome.state, bool(outcome.changed))
        self.counts["stored" if answer.refused is None else "refused"] += 1
        self._reply(terminal_id, Message("alert-ack", answer.body()))

    def _refuse(
        self, ack: ChannelAck, code: str, message: str, retry_after: float | None
    ) -> Message:
        self.counts["refused"] += 1
        return Message("alert-ack", _refusal(ack, code, message, retry_after).body())


def _refusal(ack: ChannelAck, code: str, message: str, retry_after: float | None) -> AckAnswer:
    return AckAnswer(ack.ref, ack.alert_id, refused=code, message=message, retry_after=retry_after)
