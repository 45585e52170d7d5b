"""Putting an alert on air, and taking it off: inside the caller's transaction
the notice is signed and the delivery rows written, and ``announce``
records an event per push; the pushes (one per region topic) go out after
the commit, from every process's hub or once to the broker
(``services/handlers.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import structlog

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.alerting import lifecycle
from lianbo.domain.alerting.lifecycle import AlertAction, AlertState
from lianbo.domain.alerting.model import Alert, Area, MsgType
from lianbo.domain.alerting.records import StoredAlert
from lianbo.domain.events import AlertCancelled, AlertIssued
from lianbo.domain.regions import full_form
from lianbo.services import alert_notice as notices
from lianbo.services.alert_targets import target
from lianbo.services.context import Context

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class Publication:
    """One push to send after the commit: a signed notice to some topics."""

    kind: str  # "alert" | "alert-cancel"
    alert_id: str
    topics: tuple[str, ...]
    signed: notices.Signed


def announce(uow: UnitOfWork, publications: Sequence[Publication]) -> None:
    """Record the pushes as events, in order (an alert before the cancels of
    what it supersedes): they go out once the transaction commits."""
    for p in publications:
        uow.record(AlertIssued(p.alert_id) if p.kind == "alert" else AlertCancelled(p.alert_id))


def _areas(alert: Alert, region: str) -> list[Area]:
    """The alert's areas; without any, the issuer's whole jurisdiction."""
    areas = notices.distinct_areas(alert)
    return areas or [Area("jurisdiction", geocodes=(("GB/T2260", full_form(region)),))]


async def _supersede(container: Context, uow: UnitOfWork, stored: StoredAlert) -> list[Publication]:
    """End what an Update references. Screens inside the new area replace the
    old alert (the notice lists it in ``replaces``); screens the new area no
    longer reaches get a cancel for it, published after the Update."""
    pushes: list[Publication] = []
    for ref_id in await uow.alerts.references(stored.id):
        ref = await uow.alerts.get(ref_id)
        if ref is None or lifecycle.after(ref.state, AlertAction.SUPERSEDE) is None:
            continue  # already over: nothing to supersede
        ended = await end(container, uow, ref, AlertAction.SUPERSEDE, superseded_by=stored.id)
        pushes += ended or []
    return pushes


async def activate(
    container: Context, uow: UnitOfWork, stored: StoredAlert, alert: Alert
) -> tuple[StoredAlert, list[Publication]]:
    """Sign, target and write delivery rows of an alert just issued as, or
    just confirmed into, ``active``; the pushes to send (the alert first,
    then cancels of what it supersedes)."""
    assert stored.state is AlertState.ACTIVE, "the state changes before activation"
    now = container.clock.now()
    superseded = []
    if alert.msg_type is MsgType.UPDATE:
        superseded = await _supersede(container, uow, stored)
    areas = _areas(alert, stored.region)
    screens = await uow.alerts.screens(stored.region)
    targets = target(screens, areas, stored.region)
    notice = notices.alert_notice(
        alert_id=stored.id,
        revision=stored.revision,
        replaces=stored.replaces,
        alert=alert,
        expires=stored.expires,
        settings=container.settings,
    )
    if not notices.distinct_areas(alert):
        notice["area"] = {"regions": [stored.region], "polygons": [], "circles": []}
    signed = notices.sign(await container.keys.signer(uow), notice)
    await uow.deliveries.add_deliveries(stored.id, targets.screens, now)
    values = {
        "notice": signed.notice,
        "signature": signed.signature,
        "key_id": signed.key_id,
        "targeted": len(targets.screens),
        "topics": targets.topics,
        "activated_at": now,
        "area": notice["area"],
    }
    await uow.alerts.change(stored.id, **values)
    active = replace(stored, **values)
    main = Publication("alert", stored.id, tuple(targets.topics), signed)
    return active, [main, *superseded]


async def move(
    uow: UnitOfWork, stored: StoredAlert, action: AlertAction, **facts: object
) -> StoredAlert | None:
    """Apply ``action`` to the alert as the store has it now: the domain
    decides the next state, the store changes it only if nobody else did
    meanwhile (else reload and decide again: states only move forward, so
    a few rounds at most). The alert as it was just before; None when the
    action may not happen from the state it is in."""
    current: StoredAlert | None = stored
    for _ in AlertState:
        if current is None:
            break
        target = lifecycle.after(current.state, action)
        if target is None:
            return None
        if await uow.alerts.transition(current.id, current.state, target, **facts):
            return current
        current = await uow.alerts.fresh(current.id)
    return None


async def end(
    container: Context,
    uow: UnitOfWork,
    stored: StoredAlert,
    action: AlertAction = AlertAction.CANCEL,
    **facts: object,
) -> list[Publication] | None:
    """End one live alert (``cancel``, or ``supersede`` by an Update) and sign
    its cancel notice; a push to its topics when it was on air (a pending
    one never went out). None when it is no longer live: another process
    ended it first (and sent any push)."""
    now = container.clock.now()
    signed = notices.sign(await container.keys.signer(uow), notices.cancel_notice(stored.id, now))
    before = await move(
        uow,
        stored,
        action,
        ended_at=now,
        cancel_notice=signed.notice,
        cancel_signature=signed.signature,
        cancel_key_id=signed.key_id,
        **facts,
    )
    if before is None:
        return None
    if not lifecycle.on_air(before.state):
        return []
    return [Publication("alert-cancel", before.id, tuple(before.topics), signed)]
