"""Anchoring the audit chain outside the database, and verifying against it.

A server background job (``run``) signs the chain's head into the anchor log
after ``audit_anchor_every`` new entries or ``audit_anchor_minutes``,
whichever comes first, and once more on a clean shutdown. "How many entries
since the last anchor" is never counted in memory: it is the head's seq in
the store minus the newest anchor's seq in the log, read under the log's
lock, so any number of server processes can run the job side by side.

Verifying writes nothing (no anchor at verify time: that would sign whatever
head an intruder left behind, and verify must run on a read-only copy too).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from lianbo.adapters.anchors import signature_check
from lianbo.adapters.keys import Signer
from lianbo.domain.audit import ChainReport, verify_chain
from lianbo.domain.audit_anchors import Anchor, anchor_due, check_anchors, with_anchors

if TYPE_CHECKING:
    from lianbo.services.context import Context

log = structlog.get_logger()

TICK_S = 30.0  # how often the job looks; anchors are due by entries or minutes


async def anchor(container: Context, *, final: bool = False) -> Anchor | None:
    """Anchor the committed head when due (``final``: whenever it grew since
    the last anchor); the anchor written, if any, is also sent to the copies."""
    async with container.uow() as uow:
        head_seq, head_hash = await uow.audit.head()
    if head_seq == 0:
        return None
    now = container.clock.now()
    interval = timedelta(minutes=container.settings.audit_anchor_minutes)
    every = 1 if final else container.settings.audit_anchor_every

    signer = await container.keys.signer()
    await container.keys.load_publics()  # the log trusts anchors these keys signed

    def make(last: Anchor | None) -> Anchor | None:
        # A head behind the last anchor is not anchored (that would bless a
        # rewind), nor alarmed here: another process may simply have anchored
        # a newer head since this one read it. ``verify`` names a real rewind.
        if not anchor_due(last, head_seq, now, every=every, interval=interval):
            return None
        return _signed(signer, head_seq, head_hash, now)

    written = await container.anchors.append_next(make)
    if written is not None:
        for copy in container.anchor_copies:
            copy.send(written)
        log.info("audit chain anchored", seq=written.seq, key_id=written.key_id)
    return written


def _signed(signer: Signer, seq: int, digest: str, now: datetime) -> Anchor:
    unsigned = Anchor(seq, digest, now, signer.key_id)
    return replace(unsigned, signature=signer.sign(unsigned.signed_bytes()))


async def run(container: Context, tick_s: float = TICK_S) -> None:
    """The anchoring job (runs while the server is up): look every ``tick_s``,
    and anchor what is not anchored yet when cancelled at shutdown."""
    deliveries = [asyncio.create_task(copy.run()) for copy in container.anchor_copies]
    try:
        while True:
            await _anchor_logged(container)
            await asyncio.sleep(tick_s)
    finally:
        await _anchor_logged(container, final=True)
        for task in deliveries:
            task.cancel()


async def _anchor_logged(container: Context, *, final: bool = False) -> None:
    try:
        await anchor(container, final=final)
    except Exception:  # a failed anchor must not end the job; the next tick tries again
        log.exception("audit anchoring failed")


async def verify(container: Context) -> ChainReport:
    """Walk the chain, then compare it with the anchors; the report names
    the first entry edited, deleted, missing or rewritten, or a forged anchor."""
    async with container.uow() as uow:
        entries = [entry async for entry in uow.audit.walk()]
        head_seq, head_hash = await uow.audit.head()
    chain = verify_chain(entries, head_seq=head_seq, head_hash=head_hash)
    lines = await container.anchors.read()
    anchored = {line.anchor.seq for line in lines if line.anchor is not None}
    hashes = {entry.seq: entry.hash for entry in entries if entry.seq in anchored}
    await container.keys.load_publics()
    signed = signature_check(container.keys.cached_public)
    # Off the event loop: a year of anchors is many thousand signatures to check.
    report = await asyncio.to_thread(check_anchors, lines, hashes, chain.checked, signed)
    return with_anchors(chain, report)
