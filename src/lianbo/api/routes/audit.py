"""/api/v1/audit: read and verify the control-act log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from lianbo.api.deps import ActorDep, ContainerDep, UowDep
from lianbo.api.routes.common import Limit, Moment, Offset
from lianbo.api.schemas import AuditOut, AuditVerifyOut, Page
from lianbo.domain.audit import AuditQuery
from lianbo.domain.errors import Forbidden
from lianbo.domain.roles import Permission
from lianbo.services import audit, audit_anchoring

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("")
async def list_audit(
    actor: ActorDep,
    uow: UowDep,
    action: Annotated[str | None, Query(max_length=48)] = None,
    user: Annotated[str | None, Query(max_length=64)] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Moment | None = None,
    until: Moment | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AuditOut]:
    query = AuditQuery(
        actor=user, action=action, target_id=target_id, since=_aware(since), until=_aware(until)
    )
    found, total = await audit.search(uow, actor, query, limit=limit, offset=offset)
    return Page(
        items=[
            AuditOut(
                seq=e.seq,
                at=e.at,
                actor=e.actor,
                action=e.action,
                target_type=e.target_type,
                target_id=e.target_id,
                region=e.region,
                before=e.before,
                after=e.after,
                address=e.address,
                hash=e.hash,
                prev_hash=e.prev_hash,
            )
            for e in found
        ],
        total=total,
    )


@router.get("/verify")
async def verify_audit(actor: ActorDep, container: ContainerDep) -> AuditVerifyOut:
    """Walk the whole chain, compare it with the anchors kept outside the
    database, and report the first entry not as written (or a forged anchor)."""
    if not actor.can(Permission.READ_AUDIT):
        raise Forbidden("verifying the audit log needs the admin role")
    report = await audit_anchoring.verify(container)
    return AuditVerifyOut(
        ok=report.ok,
        checked=report.checked,
        broken_seq=report.broken_seq,
        reason=report.reason,
        anchors=report.anchors,
        anchored_seq=report.anchored_seq,
    )


def _aware(moment: datetime | None) -> datetime | None:
    """Times without an offset are read as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
