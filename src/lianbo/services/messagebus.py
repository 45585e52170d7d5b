"""The message bus: after a commit, each recorded event goes to its handlers.

Services record events on the unit of work (``uow.record(event)``); when
the transaction commits, the unit of work hands them here (a rollback drops
them). Two kinds of handler (cosmicpython's ``messagebus`` + ``handlers``):

- **here**: run once, on the process where the event was committed (a
  manifest rebuild writes the store; doing it on every process would do it
  N times);
- **everywhere**: run on every process (each purges its own caches and
  pushes to the screens on its own sockets).

With more than one process a transport carries each event to the others
(``remote``: the unit of work stages ``envelopes`` inside the transaction,
so an event travels if and only if it committed), and a listener hands
what arrives to ``received``, which runs the *everywhere* handlers. On a
(re)connect the listener calls ``revalidate``: a notification may have been
missed while it was away, so the process drops what it caches and reads
the store again.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

import structlog

from lianbo.domain import events as ev

log = structlog.get_logger()

Handler = Callable[[ev.Event], Awaitable[None]]
Revalidate = Callable[[], Awaitable[None]]
LAG_WINDOW_S = 60.0


class Listener(Protocol):
    """The receiving side of a transport between processes."""

    @property
    def connected(self) -> bool: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class MessageBus:
    """Handlers by event type, and where they run (see the module docstring)."""

    def __init__(
        self,
        process_id: str,
        *,
        remote: bool = False,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.process_id = process_id
        self.remote = remote  # do events travel to other processes?
        self._wall = wall  # sending and receiving times (hosts' clocks, for the lag)
        self._monotonic = monotonic
        self._lags: deque[tuple[float, float]] = deque()  # (received, lag s), last minute
        self.listener: Listener | None = None
        self._here: dict[type[ev.Event], list[Handler]] = {}
        self._everywhere: dict[type[ev.Event], list[Handler]] = {}
        self._revalidators: list[Revalidate] = []

    def subscribe(self, event_type: type[ev.Event], handler: Handler, *, everywhere: bool) -> None:
        """Run ``handler`` for each ``event_type``: on every process, or here only."""
        table = self._everywhere if everywhere else self._here
        table.setdefault(event_type, []).append(handler)

    def on_revalidate(self, revalidate: Revalidate) -> None:
        """Run ``revalidate`` whenever the listener (re)connects."""
        self._revalidators.append(revalidate)

    @property
    def connected(self) -> bool:
        """Whether this process hears events committed elsewhere (always, alone)."""
        return self.listener.connected if self.listener is not None else True

    @property
    def lag_seconds(self) -> float:
        """The largest send-to-receipt delay of events from other processes
        received in the last minute (0 when none came): ``/metrics``."""
        self._forget_old_lags()
        return max((lag for _, lag in self._lags), default=0.0)

    def _forget_old_lags(self) -> None:
        cutoff = self._monotonic() - LAG_WINDOW_S
        while self._lags and self._lags[0][0] < cutoff:
            self._lags.popleft()

    def envelopes(self, events: Iterable[ev.Event]) -> list[str]:
        """What to stage for other processes in the committing transaction
        (nothing when events do not travel)."""
        if not self.remote:
            return []
        now = self._wall()
        return [
            text for event in events for text in ev.envelopes(self.process_id, event, sent_at=now)
        ]

    async def handle(self, events: Iterable[ev.Event]) -> None:
        """Events committed on this process: every handler, in order."""
        for event in events:
            kind = type(event)
            for handler in (*self._everywhere.get(kind, ()), *self._here.get(kind, ())):
                await _run(handler, event)

    async def received(self, envelope: str) -> None:
        """An envelope from the transport: its *everywhere* handlers, unless it
        was committed here (``handle`` already ran them)."""
        try:
            opened = ev.open_envelope(envelope)
        except ev.UnknownEvent as error:  # a newer process's event: not ours to guess
            log.warning("event not understood", reason=str(error))
            return
        if opened.origin == self.process_id:
            return
        if opened.sent_at is not None:
            self._forget_old_lags()
            self._lags.append((self._monotonic(), max(0.0, self._wall() - opened.sent_at)))
        for handler in self._everywhere.get(type(opened.event), ()):
            await _run(handler, opened.event)

    async def revalidate(self) -> None:
        """Drop what this process caches (called on every listener connect)."""
        for revalidate in self._revalidators:
            try:
                await revalidate()
            except Exception:  # one cache failing must not keep the others stale
                log.exception("revalidation failed")

    async def start(self) -> None:
        if self.listener is not None:
            await self.listener.start()

    async def stop(self) -> None:
        if self.listener is not None:
            await self.listener.stop()


async def _run(handler: Handler, event: ev.Event) -> None:
    """A side effect that fails is logged, never undoes the committed change
    nor stops the other handlers (the caller's request already succeeded)."""
    try:
        await handler(event)
    except Exception:
        log.exception("event handler failed", kind=type(event).__name__, handler=_name(handler))


def _name(handler: Handler) -> str:
    return getattr(handler, "__qualname__", None) or repr(handler)
