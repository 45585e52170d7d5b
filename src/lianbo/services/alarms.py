"""Alarms as people act on them: search, acknowledge, resolve.

Acknowledge and resolve are control acts: permission ``MONITOR``, inside the
caller's jurisdiction, audited; each queues its webhooks in its own
transaction (the outbox, ADR 0016). The desk that opens and resolves alarms
from observations is ``services/alarm_desk.py``; see docs/monitoring.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from lianbo.adapters.db.repos.alarms import StoredAlarm
from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.errors import Conflict, Forbidden, NotFound
from lianbo.domain.monitoring.alarms import AlarmFilter, AlarmState, AlarmType, Observation
from lianbo.domain.ports import Clock
from lianbo.domain.roles import Permission
from lianbo.domain.users import Actor
from lianbo.services import audit
from lianbo.services.alarm_desk import AlarmDesk, alarm_json, event_name
from lianbo.services.webhook_outbox import WebhookOutbox

__all__ = [
    "AlarmDesk",
    "acknowledge",
    "alarm_json",  # the API's shape of an alarm (the desk's, for its webhooks)
    "get",
    "observation",
    "resolve",
    "search",
    "with_evidence",
]


def observation(
    terminal_id: str,
    kind: AlarmType,
    active: bool,
    tier: str,
    evidence: Mapping[str, object] | None = None,
) -> Observation:
    """An observation that records the tier in its evidence (stored with the alarm)."""
    return Observation(terminal_id, kind, active, tier, {"tier": tier, **(evidence or {})})


def with_evidence(found: Observation, **extra: object) -> Observation:
    return replace(found, evidence={**found.evidence, "tier": found.tier, **extra})


# ------------------------------------------------------------------ the API


async def search(
    uow: UnitOfWork, actor: Actor, where: AlarmFilter, *, limit: int, offset: int
) -> tuple[list[StoredAlarm], int]:
    """Alarms inside the caller's jurisdiction, newest first."""
    scoped = replace(where, within=actor.jurisdiction)
    return await uow.alarms.search(scoped, limit=limit, offset=offset)


async def get(uow: UnitOfWork, actor: Actor, alarm_id: str) -> StoredAlarm:
    alarm = await uow.alarms.get(alarm_id)
    if alarm is None:
        raise NotFound("alarm not found")
    actor.require_within(alarm.region, "alarm")
    return alarm


async def acknowledge(
    uow: UnitOfWork, clock: Clock, desk: AlarmDesk, actor: Actor, alarm_id: str
) -> StoredAlarm:
    """A monitor has seen the alarm (open → acknowledged); audited."""
    alarm = await _controlled(uow, actor, alarm_id)
    if alarm.state != AlarmState.OPEN.value:
        raise Conflict(f"the alarm is {alarm.state}, not open")
    now = clock.now()
    after = await _move(
        uow,
        (clock, desk.outbox),
        actor,
        alarm,
        "alarm.acknowledge",
        state=AlarmState.ACKNOWLEDGED.value,
        acknowledged_at=now,
        acknowledged_by=actor.username,
    )
    await desk.acknowledged(after)
    return after


async def resolve(
    uow: UnitOfWork, clock: Clock, desk: AlarmDesk, actor: Actor, alarm_id: str
) -> StoredAlarm:
    """Close the alarm by hand; a condition still present opens a new one later."""
    alarm = await _controlled(uow, actor, alarm_id)
    if alarm.state == AlarmState.RESOLVED.value:
        raise Conflict("the alarm is already resolved")
    now = clock.now()
    after = await _move(
        uow,
        (clock, desk.outbox),
        actor,
        alarm,
        "alarm.resolve",
        state=AlarmState.RESOLVED.value,
        resolved_at=now,
        resolved_by=actor.username,
    )
    await desk.resolved(after)
    return after


async def _move(
    uow: UnitOfWork,
    ports: tuple[Clock, WebhookOutbox],
    actor: Actor,
    alarm: StoredAlarm,
    action: str,
    **changes: Any,
) -> StoredAlarm:
    """Store an operator's change to an alarm with its audit entry and its
    webhooks; the alarm after."""
    clock, outbox = ports
    await uow.alarms.set(alarm.id, **changes)
    after = replace(alarm, **changes)
    await audit.record(
        uow,
        clock,
        actor,
        action,
        ("alarm", alarm.id),
        region=alarm.region,
        before=alarm.facts(),
        after=after.facts(),
    )
    await outbox.queue(uow, event_name(after), alarm_json(after))
    await uow.commit()
    return after


async def _controlled(uow: UnitOfWork, actor: Actor, alarm_id: str) -> StoredAlarm:
    alarm = await get(uow, actor, alarm_id)
    if not actor.can(Permission.MONITOR):
        raise Forbidden("acknowledging or resolving alarms needs the monitor role")
    return alarm
