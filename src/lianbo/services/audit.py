"""Recording and checking control acts."""

from __future__ import annotations

from typing import Any

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.audit import AuditEntry, AuditQuery, ChainReport, verify_chain
from lianbo.domain.errors import Forbidden
from lianbo.domain.ports import Clock
from lianbo.domain.roles import Permission
from lianbo.domain.users import Actor


async def record(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    action: str,
    target: tuple[str, str],
    *,
    region: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one control act to the chain, inside the caller's transaction."""
    target_type, target_id = target
    return await uow.audit.append(
        AuditEntry(
            seq=0,
            at=clock.now(),
            actor=actor.username,
            action=action,
            target_type=target_type,
            target_id=target_id,
            region=region,
            before=before,
            after=after,
            address=actor.address,
        )
    )


async def verify(uow: UnitOfWork) -> ChainReport:
    """Walk the whole chain; the report names the first bad entry.

    The chain alone: ``audit_anchoring.verify`` also compares it with the
    anchors outside the database, which is what every entry point shows.
    """
    entries = [entry async for entry in uow.audit.walk()]
    head_seq, head_hash = await uow.audit.head()
    return verify_chain(entries, head_seq=head_seq, head_hash=head_hash)


async def search(
    uow: UnitOfWork, actor: Actor, query: AuditQuery, *, limit: int, offset: int
) -> tuple[list[AuditEntry], int]:
    """Entries about the actor's jurisdiction, newest first."""
    if not actor.can(Permission.READ_AUDIT):
        raise Forbidden("reading the audit log needs the admin role")
    scoped = AuditQuery(
        actor=query.actor,
        action=query.action,
        target_id=query.target_id,
        since=query.since,
        until=query.until,
        within=actor.jurisdiction,
    )
    return await uow.audit.search(scoped, limit=limit, offset=offset)
