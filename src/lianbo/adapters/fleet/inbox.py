"""What screens send up the channel, whichever transport carried it.

A ``status`` message is the screen's heartbeat (the body of
``POST /terminal/v1/heartbeat``, without an HTTP request per beat): it is
handed to the monitor's batcher and answered with a ``heartbeat`` message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import structlog

from lianbo.domain.errors import RateLimited
from lianbo.domain.ports import Clock
from lianbo.domain.text import refusal, refused_in_json
from lianbo.protocol.messages import TERMINAL_TYPES, MalformedMessage, Message, decode, time_reply

log = structlog.get_logger()

STATUS_MAX_BYTES = 2048  # what is kept of a status report, per screen
ACKS_KEPT = 10_000  # command acknowledgements remembered (oldest forgotten first)
WARN_EVERY_S = 60.0  # a misbehaving screen is logged once a minute, not per message
HEARTBEAT_MAX_BYTES = 16 * 1024  # as POST /terminal/v1/heartbeat


class Heartbeats(Protocol):
    """Where heartbeats go (``services.monitoring.Monitor``)."""

    def beat(self, terminal_id: str, status: dict[str, Any] | None) -> datetime:
        """Admit one heartbeat without waiting; ``RateLimited`` when flooding."""
        ...


@dataclass(frozen=True, slots=True)
class Status:
    received_at: float
    body: dict[str, Any]


class Inbox:
    def __init__(
        self, clock: Clock, heartbeats: Heartbeats | None = None, heartbeat_seconds: float = 30
    ) -> None:
        self._clock = clock
        self._heartbeats = heartbeats
        self._heartbeat_seconds = heartbeat_seconds
        self._statuses: dict[str, Status] = {}
        self._acks: dict[tuple[str, str], float] = {}  # (terminal, command id) -> when
        self._warned: dict[str, float] = {}

    def now(self) -> float:
        return self._clock.now().timestamp()

    def receive(self, terminal_id: str, raw: str | bytes) -> Message | None:
        """Handle one message from a screen; the reply, if any.

        A malformed message is dropped and logged; the sender stays connected.
        """
        try:
            message = decode(raw, allowed=TERMINAL_TYPES)
        except MalformedMessage as error:
            self._warn(terminal_id, str(error))
            return None
        if message.type == "time":
            return time_reply(message.body["t0"], self.now())
        if message.type == "ack":
            self._ack(terminal_id, message.body["id"])
        elif message.type == "status":
            refused = refused_in_json(message.body)
            if refused is not None:  # one rule with the HTTP heartbeat (domain.text)
                self._warn(terminal_id, refusal(f"status.{refused[0]}", refused[1]))
                return None
            body = message.body if len(raw) <= STATUS_MAX_BYTES else {"truncated": True}
            self._statuses[terminal_id] = Status(self.now(), body)
            if self._heartbeats is not None:
                return self._heartbeat(terminal_id, message.body, len(raw))
        return None

    def _heartbeat(self, terminal_id: str, status: dict[str, Any], size: int) -> Message:
        if size > HEARTBEAT_MAX_BYTES:
            return Message("heartbeat", {"refused": "status report over 16 KB", "retry_after": 0})
        assert self._heartbeats is not None
        try:
            at = self._heartbeats.beat(terminal_id, status or None)
        except RateLimited as error:
            refused = {"refused": error.message, "retry_after": error.retry_after}
            return Message("heartbeat", refused)
        body = {"server_time": at.timestamp(), "heartbeat_seconds": self._heartbeat_seconds}
        return Message("heartbeat", body)

    def _warn(self, terminal_id: str, error: str) -> None:
        now = time.monotonic()
        if now - self._warned.get(terminal_id, -WARN_EVERY_S) >= WARN_EVERY_S:
            self._warned[terminal_id] = now
            log.warning("malformed fleet message dropped", terminal_id=terminal_id, error=error)

    def _ack(self, terminal_id: str, command_id: str) -> None:
        log.info("command acknowledged", terminal_id=terminal_id, id=command_id)
        self._acks[(terminal_id, command_id[:64])] = self.now()
        if len(self._acks) > ACKS_KEPT:  # dicts keep insertion order: drop the oldest
            del self._acks[next(iter(self._acks))]

    def status(self, terminal_id: str) -> Status | None:
        """The last status report of a screen (kept in memory only)."""
        return self._statuses.get(terminal_id)

    def acked(self, terminal_id: str, command_id: str) -> float | None:
        """When ``terminal_id`` acknowledged ``command_id`` (epoch s), if it did
        while connected to this process (kept in memory only)."""
        return self._acks.get((terminal_id, command_id))
