"""What screens send up the channel, whichever transport carried it.

A ``status`` message is the screen's heartbeat (the body of
``POST /terminal/v1/heartbeat``, without an HTTP request per beat): it is
handed to the monitor's batcher, which stores it (newest wins), and
answered with a ``heartbeat`` message. An ``ack`` of a command is handed to
``Acks``, which stores it; an ``alert-ack`` to the alert ack batcher
(``alert_acks.ChannelAcks``), answered on the channel after its commit.
A malformed or oversized message is dropped and counted by reason
(``refused``; ``lianbo_fleet_messages_refused_total`` on ``/metrics``), the
sender stays connected and the next message is handled as usual.
Nothing a screen sends is kept here: the console may ask any process.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import structlog

from lianbo.adapters.fleet.alert_acks import AlertAcks, ChannelAcks
from lianbo.domain.errors import RateLimited
from lianbo.domain.ports import Clock
from lianbo.domain.text import refusal, refused_in_json
from lianbo.protocol.messages import (
    MAX_MESSAGE_BYTES,
    TERMINAL_TYPES,
    MalformedMessage,
    Message,
    decode,
    time_reply,
)

log = structlog.get_logger()

WARN_EVERY_S = 60.0  # a misbehaving screen is logged once a minute, not per message
HEARTBEAT_MAX_BYTES = 16 * 1024  # as POST /terminal/v1/heartbeat

# Why a message from a screen was refused (``Inbox.refused``): too large;
# not a message of ours (not JSON, unknown type, wrong fields); text with a
# refused character (``domain.text``); a kind this channel does not take;
# heartbeats faster than allowed.
OVERSIZED, MALFORMED, TEXT, UNWANTED, RATE_LIMITED = (
    "oversized",
    "malformed",
    "text",
    "unwanted",
    "rate_limited",
)
REFUSALS = (OVERSIZED, MALFORMED, TEXT, UNWANTED, RATE_LIMITED)


class Heartbeats(Protocol):
    """Where heartbeats go (``services.monitoring.Monitor``)."""

    def beat(self, terminal_id: str, status: dict[str, Any] | None) -> datetime:
        """Admit one heartbeat without waiting; ``RateLimited`` when flooding."""
        ...


class Acks(Protocol):
    """Where acknowledgements of commands go (``services.commands.CommandAcks``)."""

    def ack(self, terminal_id: str, command_id: str, at: datetime) -> None:
        """Take one ack to store without waiting (``terminal_id`` is the
        sender's own: a screen acknowledges only its commands)."""
        ...

    async def settle(self) -> None:
        """Store what was taken (at a stop; bounded by the implementation)."""
        ...


class Inbox:
    def __init__(
        self,
        clock: Clock,
        heartbeats: Heartbeats | None = None,
        heartbeat_seconds: float = 30,
        acks: Acks | None = None,
        alert_acks: AlertAcks | None = None,
        reply: Callable[[str, Message], None] | None = None,
    ) -> None:
        """``reply`` sends a late answer (an alert ack's, after its commit)
        to a screen; without it, or without ``alert_acks``, alert acks are
        dropped (the screen acks over HTTP)."""
        self._clock = clock
        self._heartbeats = heartbeats
        self._heartbeat_seconds = heartbeat_seconds
        self._acks = acks
        self.alert_acks = (
            ChannelAcks(alert_acks, reply) if alert_acks is not None and reply else None
        )
        self.refused: Counter[str] = Counter()  # messages refused, by reason (REFUSALS)
        self._warned: dict[str, float] = {}  # when each screen was last logged

    async def settle(self) -> None:
        """Let the acks handed over be stored (the channel is stopping)."""
        if self.alert_acks is not None:
            await self.alert_acks.settle()
        if self._acks is not None:
            await self._acks.settle()

    def now(self) -> float:
        return self._clock.now().timestamp()

    @property
    def dropped(self) -> int:
        """Messages refused, whatever the reason."""
        return sum(self.refused.values())

    def refuse(self, reason: str) -> None:
        """Count a message the transport refused before it got here (a
        socket closed for a frame too large, text not UTF-8)."""
        self.refused[reason] += 1

    def receive(self, terminal_id: str, raw: str | bytes) -> Message | None:
        """Handle one message from a screen; the reply, if any.

        A malformed message is dropped and logged; the sender stays connected.
        """
        if len(raw) > MAX_MESSAGE_BYTES:
            self._warn(terminal_id, OVERSIZED, "message too large")
            return None
        try:
            message = decode(raw, allowed=TERMINAL_TYPES)
        except MalformedMessage as error:
            self._warn(terminal_id, MALFORMED, str(error))
            return None
        if message.type == "time":
            return time_reply(message.body["t0"], self.now())
        if message.type == "alert-ack":
            return self._alert_ack(terminal_id, message.body)
        if message.type == "ack":
            self._ack(terminal_id, message.body["id"])
        elif message.type == "status":
            refused = refused_in_json(message.body)
            if refused is not None:  # one rule with the HTTP heartbeat (domain.text)
                self._warn(terminal_id, TEXT, refusal(f"status.{refused[0]}", refused[1]))
                return None
            if self._heartbeats is not None:
                return self._heartbeat(terminal_id, message.body, len(raw))
        return None

    def _heartbeat(self, terminal_id: str, status: dict[str, Any], size: int) -> Message:
        if size > HEARTBEAT_MAX_BYTES:
            self.refused[OVERSIZED] += 1  # answered: the screen hears why
            return Message("heartbeat", {"refused": "status report over 16 KB", "retry_after": 0})
        assert self._heartbeats is not None
        try:
            at = self._heartbeats.beat(terminal_id, status or None)
        except RateLimited as error:
            self.refused[RATE_LIMITED] += 1
            refused = {"refused": error.message, "retry_after": error.retry_after}
            return Message("heartbeat", refused)
        body = {"server_time": at.timestamp(), "heartbeat_seconds": self._heartbeat_seconds}
        return Message("heartbeat", body)

    def _alert_ack(self, terminal_id: str, body: dict[str, Any]) -> Message | None:
        if self.alert_acks is None:
            self._warn(terminal_id, UNWANTED, "alert acks are not taken on this channel")
            return None
        try:
            return self.alert_acks.take(terminal_id, body)
        except ValueError as error:
            self._warn(terminal_id, MALFORMED, str(error))
            return None

    def _warn(self, terminal_id: str, reason: str, error: str) -> None:
        self.refused[reason] += 1
        now = time.monotonic()
        if now - self._warned.get(terminal_id, -WARN_EVERY_S) >= WARN_EVERY_S:
            self._warned[terminal_id] = now
            log.warning("malformed fleet message dropped", terminal_id=terminal_id, error=error)

    def _ack(self, terminal_id: str, command_id: str) -> None:
        log.info("command acknowledged", terminal_id=terminal_id, id=command_id[:64])
        if self._acks is not None:
            self._acks.ack(terminal_id, command_id, self._clock.now())
