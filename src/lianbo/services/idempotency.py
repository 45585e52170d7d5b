"""Idempotency keys for control acts (ADR 0015): the act once, its outcome again.

An act adopts a key in three steps, as ``services/alert_intake.issue_json``
and ``services/alerts.issue`` do:

1. the entry point turns the header into a ``Claim`` (``claim``: user, key,
   the act's name, a fingerprint of the request);
2. ``once`` answers a claim whose key is kept with the first outcome
   (``load`` reads what that outcome names), and otherwise runs the act;
3. the act calls ``keep`` inside its own transaction, before it commits,
   so the key is kept with the act or not at all.

Two requests with one key at once: the second waits at ``keep`` for the
first to commit (PostgreSQL's primary-key lock), then answers with its
outcome; if the first is still running after
``LIANBO_IDEMPOTENCY_WAIT_SECONDS``, 409 ``idempotency_key_in_progress``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import structlog

from lianbo.adapters.db.repos.idempotency import KeyTaken
from lianbo.domain.idempotency import Claim, Outcome, fingerprint, in_progress, parse_key, replay
from lianbo.domain.users import Actor
from lianbo.services.context import Context, UnitOfWork
from lianbo.services.duties import every

log = structlog.get_logger()

T = TypeVar("T")
Load = Callable[[UnitOfWork, Outcome], Awaitable[T]]


def claim(header: str | None, actor: Actor, act: str, payload: bytes) -> Claim | None:
    """The request's claim on its ``Idempotency-Key`` (None without the header;
    400 naming the header when it is malformed)."""
    if header is None:
        return None
    return Claim(actor.user_id, parse_key(header), act, fingerprint(act, payload))


async def once(
    container: Context,
    uow: UnitOfWork,
    held: Claim | None,
    act: Callable[[], Awaitable[T]],
    load: Load[T],
) -> T:
    """Run ``act`` unless ``held``'s key already has an outcome: then ``load``
    what that outcome names instead."""
    if held is None:
        return await act()
    kept = await _kept(container, uow, held)
    if kept is not None:
        return await load(uow, kept)
    try:
        return await act()
    except KeyTaken:  # a request with this key committed while we worked
        async with container.uow() as fresh:
            kept = await _kept(container, fresh, held)
            if kept is None:  # it was kept and has expired since: not worth a retry
                raise in_progress() from None
            return await load(fresh, kept)


async def _kept(container: Context, uow: UnitOfWork, held: Claim) -> Outcome | None:
    """The outcome kept for the key (422 if it came with another request)."""
    stored = await uow.idempotency.get(held.user_id, held.key)
    outcome = replay(stored, held, container.clock.now())
    if stored is not None and outcome is None:  # expired, not yet pruned: free it
        await uow.idempotency.forget(held.user_id, held.key)
    return outcome


async def keep(container: Context, uow: UnitOfWork, held: Claim | None, outcome: Outcome) -> None:
    """Keep the key with the act's outcome, in the act's transaction (before
    its commit). Nothing without a claim."""
    if held is None:
        return
    now = container.clock.now()
    settings = container.settings
    expires = now + timedelta(hours=settings.idempotency_key_hours)
    await uow.idempotency.add(held, outcome, now, expires, settings.idempotency_wait_seconds)


async def prune(container: Context) -> int:
    """Forget expired keys; how many."""
    async with container.uow() as uow:
        count = await uow.idempotency.prune(container.clock.now())
        await uow.commit()
    if count:
        log.info("idempotency keys expired", count=count)
    return count


async def run_pruning(container: Context, every_s: float = 600.0) -> None:
    """Leader duty: remove expired keys every few minutes."""
    await every(every_s, lambda: prune(container), "idempotency key pruning")
