"""Heartbeats: over the push socket while it is up, over HTTP otherwise.

Tens of thousands of screens beat every 30 s, and an HTTP request per beat
was the monitoring bottleneck while each connected screen already holds a
socket. On the socket a ``status`` message *is* the heartbeat; the server
answers ``heartbeat {server_time, heartbeat_seconds}``, or
``heartbeat {refused, retry_after}`` when the screen beats too often (it
then waits ``retry_after``).

HTTP heartbeats stay for what the socket reply does not carry — the
audience — and for when the socket cannot be used:

- the socket is down, or its reply did not come within ``reply_seconds``
  (the socket is then left alone for heartbeats for ``quiet_seconds``, so
  a server that does not answer on it costs no wait on every beat);
- at least every ``audience_seconds`` (the first beat of a run included);
- at once when a manifest names another audience than the stored one
  (``refresh_audience``): a moved screen learns its new audience before
  refusing the manifest made for it.

Nothing here waits for a socket reply: ``beat`` sends and returns, and the
sync loop comes back at ``due`` — the reply's deadline — when none came.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from lianbo.player.api import Exchange, Refused, Unreachable
from lianbo.player.clock import OffsetEstimator
from lianbo.player.fetch import Rejection
from lianbo.protocol.manifest import ManifestRejected, parse_time
from lianbo.protocol.messages import Message

log = logging.getLogger("lianbo.player")

MIN_SECONDS, MAX_SECONDS = 1.0, 3600.0  # the interval a server may set


class HttpBeat(Protocol):
    """``TerminalApi``'s heartbeat (Unreachable / Refused when it fails)."""

    async def heartbeat(self, status: dict[str, Any]) -> Exchange: ...


class Socket(Protocol):
    """``PushChannel``: whether it is up, and sending on it."""

    @property
    def connected(self) -> bool: ...

    async def send(self, message: Message) -> bool: ...


@dataclass(frozen=True, slots=True)
class BeatConfig:
    seconds: float = 30.0  # until the server says otherwise
    reply_seconds: float = 5.0  # a socket reply later than this: HTTP instead
    quiet_seconds: float = 300.0  # after a missing reply, HTTP only for this long
    audience_seconds: float = 600.0  # an HTTP heartbeat at least this often
    refresh_after: float = 10.0  # an audience this fresh is not asked again


class Heartbeats:
    """When the next heartbeat is due, which way it goes, what replies mean."""

    def __init__(
        self,
        config: BeatConfig,
        status: Callable[[], dict[str, Any]],
        estimator: OffsetEstimator,
        monotonic: Callable[[], float],
        on_audience: Callable[[dict[str, Any]], None],
    ) -> None:
        self.config = config
        self.seconds = config.seconds
        self.status = status
        self.estimator = estimator
        self.monotonic = monotonic
        self.on_audience = on_audience
        self.accepted = 0  # heartbeats the server took, either way
        self.refused = 0  # socket heartbeats refused as too frequent
        self.sent = {"socket": 0, "http": 0}
        self.api: HttpBeat | None = None
        self.push: Socket | None = None
        self.attach(None, None)

    def attach(self, api: HttpBeat | None, push: Socket | None) -> None:
        """Use these links (a new round of the agent): beat at once, over HTTP."""
        self.api, self.push = api, push
        self._next = 0.0
        self._http_due = 0.0  # the first beat asks for the audience
        self._last_http: float | None = None
        self._quiet_until = 0.0
        self._awaiting: float | None = None  # the deadline of an unanswered socket beat

    @property
    def due(self) -> float:
        """Monotonic time of the next call to ``beat`` (or of a reply's deadline)."""
        return self._next if self._awaiting is None else min(self._next, self._awaiting)

    def soon(self) -> None:
        """Beat at the next chance (when the server is back after an outage)."""
        self._next, self._awaiting = 0.0, None

    async def beat(self) -> None:
        """One heartbeat; Unreachable / Refused when it went over HTTP and failed."""
        now = self.monotonic()
        if self._awaiting is not None and now >= self._awaiting:
            self._awaiting = None
            if self.push is not None and self.push.connected:
                log.info("no heartbeat reply on the push channel; using HTTP for a while")
                self._quiet_until = now + self.config.quiet_seconds
        elif self._socket_usable(now) and await self.report():
            if self._awaiting is None:  # the oldest unanswered beat sets the deadline
                self._awaiting = now + self.config.reply_seconds
            self._next = now + self.seconds
            return
        await self.over_http()

    async def connected(self) -> None:
        """A (re)connected socket, perhaps to another server: try it again, and
        beat on it at once."""
        self._quiet_until = 0.0
        await self.report()

    async def report(self) -> bool:
        """Send the status up the socket now (it counts as a heartbeat there);
        False when the socket is not there to take it."""
        if self.push is None or self.monotonic() < self._quiet_until:
            return False
        sent = await self.push.send(Message("status", self.status()))
        self.sent["socket"] += sent
        return sent

    def answer(self, body: dict[str, Any]) -> None:
        """A ``heartbeat`` message from the socket."""
        self._awaiting = None
        now = self.monotonic()
        if "refused" in body:
            self.refused += 1
            wait = _seconds(body.get("retry_after")) or self.seconds
            log.info("heartbeat refused (%s); next in %.0f s", body.get("refused"), wait)
            self._next = now + wait
            return
        self.accepted += 1
        self._adopt(body.get("heartbeat_seconds"))
        self._next = now + self.seconds

    async def over_http(self) -> dict[str, Any] | None:
        """An HTTP heartbeat; the audience its reply carries, if any."""
        if self.api is None:
            raise Unreachable("no control centre yet")
        self.sent["http"] += 1
        exchange = await self.api.heartbeat(self.status())
        now = self.monotonic()
        self.accepted += 1
        self._last_http, self._http_due = now, now + self.config.audience_seconds
        reply = exchange.body if isinstance(exchange.body, dict) else {}
        with contextlib.suppress(ManifestRejected):  # no usable server_time: no sample
            server_time = parse_time(reply.get("server_time"), "server_time").timestamp()
            self.estimator.add(exchange.t0, server_time, exchange.t1)
        self._adopt(reply.get("heartbeat_seconds"))
        self._next = now + self.seconds
        audience = reply.get("audience")
        if not isinstance(audience, dict):
            return None
        self.on_audience(audience)
        return audience

    async def refresh_audience(self) -> dict[str, Any] | None:
        """The server's word on our audience now (an HTTP heartbeat, unless one
        just answered); None when it cannot be asked or did not say."""
        now, last = self.monotonic(), self._last_http
        audience = None
        if last is None or now - last >= self.config.refresh_after:
            try:
                audience = await self.over_http()
            except (Unreachable, Refused) as error:
                log.warning("audience not refreshed: %s", error)
        # The server's terminal cache may lag an operator's edit (30 s): the
        # next heartbeat within the minute goes over HTTP too, not in 10.
        self._http_due = min(self._http_due, now + 60.0)
        return audience

    def _socket_usable(self, now: float) -> bool:
        return (
            self.push is not None
            and self.push.connected
            and now < self._http_due  # else an HTTP heartbeat is due (the audience)
            and now >= self._quiet_until
        )

    def _adopt(self, seconds: Any) -> None:
        self.seconds = _seconds(seconds) or self.seconds


def moved(rejection: Rejection | None) -> bool:
    """A manifest refused as made for another audience: were we moved?"""
    return rejection is not None and rejection.reason == "audience mismatch"


def _seconds(value: Any) -> float | None:
    """An interval from the server within our bounds; None for nonsense."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if number and MIN_SECONDS <= value <= MAX_SECONDS else None
