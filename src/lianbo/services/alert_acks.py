"""Screens' alert acks in group commits (ADR 0017).

After an alert every targeted screen acks ``displayed`` at about the same
moment: 10,000 ``POST /terminal/v1/alerts/{id}/ack`` within a second or
two. Written one transaction per ack, a process managed ~100 a second, so
the delivery board took a minute and more to count them all. Here every ack
that arrives while a batch is being written joins the next one
(``services/play_writes.py`` has the same shape): one transaction, rows read
and locked once, moved with a few multi-row statements
(``alert_terminal.apply_acks``). No timer: a lone ack is written at once;
under load a batch holds whatever queued during the last commit, up to
``BATCH_MAX``. A request is answered after the commit holding its ack, with
its own outcome (``Acked``, or its own 404).

If a batch fails as a whole (a lost connection, a deadlock with a rival
process), its acks are written one by one, so a bad one fails only its own
request. At shutdown ``close`` writes what is waiting; an ack that comes
after, or whose batch was cancelled, is refused with ``Closing`` (503: the
screen acks again) — never left waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import structlog

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.errors import DomainError
from lianbo.domain.ports import Clock
from lianbo.services.alert_terminal import Ack, Acked, Outcome, apply_acks, check_state

__all__ = ["BATCH_MAX", "AckBatcher", "Closing", "committed"]

BATCH_MAX = 500  # acks per transaction: a batch's locks are held briefly

log = structlog.get_logger()

Apply = Callable[[Sequence[Ack]], Awaitable[Sequence[Outcome]]]


class Closing(Exception):
    """The process is shutting down: this ack was not written (ack again)."""


def committed(uows: Callable[[], UnitOfWork], clock: Clock) -> Apply:
    """Apply a batch in a transaction of its own (what the batcher writes with)."""

    async def apply(acks: Sequence[Ack]) -> Sequence[Outcome]:
        async with uows() as uow:
            return await apply_acks(uow, clock.now(), acks)

    return apply


def _future() -> asyncio.Future[Outcome]:
    return asyncio.get_running_loop().create_future()


@dataclass(slots=True)
class _Waiting:
    ack: Ack
    done: asyncio.Future[Outcome] = field(default_factory=_future)


class AckBatcher:
    """One per process: lines acks up in group commits (module doc)."""

    def __init__(self, apply: Apply, *, batch_max: int = BATCH_MAX) -> None:
        self._apply = apply
        self._batch_max = batch_max
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None
        self._closed = False
        self.batches = 0  # transactions written (for tests and the benchmark)

    async def ack(
        self, terminal_id: str, alert_id: str, state: str, reason: str | None = None
    ) -> Acked:
        """Record how far the alert got on this screen (never backwards);
        answered once the batch holding it commits. A bad state is refused
        here (400), an alert that is not this screen's by the batch (404)."""
        # A request that goes away leaves its ack in the batch: it is written.
        outcome = await self.submit(terminal_id, alert_id, state, reason)
        if isinstance(outcome, DomainError):
            raise outcome
        return outcome

    def submit(
        self, terminal_id: str, alert_id: str, state: str, reason: str | None = None
    ) -> asyncio.Future[Outcome]:
        """Queue an ack without waiting (the fleet channel: no task per ack);
        the future holds its outcome — ``Acked`` or its ``DomainError`` — or
        the exception its batch failed with. A bad state raises here (400),
        and so does ``Closing``."""
        one = _Waiting(Ack(terminal_id, alert_id, check_state(state), reason))
        if self._closed:
            raise Closing("the server is shutting down")
        self._waiting.append(one)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return one.done

    async def close(self) -> None:
        """Write what is waiting; refuse acks from now on."""
        self._closed = True
        if self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def _drain(self) -> None:
        batch: list[_Waiting] = []
        try:
            while self._waiting:
                batch = self._waiting[: self._batch_max]
                del self._waiting[: len(batch)]
                await self._write(batch)
                batch = []
        except asyncio.CancelledError:
            for one in (*batch, *self._waiting):  # never a request left waiting
                _settle(one, error=Closing("the server is shutting down"))
            self._waiting.clear()
            raise

    async def _write(self, batch: Sequence[_Waiting]) -> None:
        try:
            outcomes = await self._apply([one.ack for one in batch])
        except Exception as error:
            if len(batch) == 1:
                _settle(batch[0], error=error)
                return
            log.warning("alert_acks.batch_failed", acks=len(batch), error=str(error))
            for one in batch:  # alone, so a bad ack fails only its own request
                await self._write([one])
            return
        self.batches += 1
        for one, outcome in zip(batch, outcomes, strict=True):
            _settle(one, outcome)


def _settle(
    one: _Waiting, outcome: Outcome | None = None, *, error: BaseException | None = None
) -> None:
    if one.done.done():  # its request went away
        return
    if error is not None:
        one.done.set_exception(error)
    else:
        assert outcome is not None
        one.done.set_result(outcome)
