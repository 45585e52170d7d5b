"""Issuing, confirming and cancelling emergency alerts (docs/alerts.md).

Every alert, written in JSON or imported as CAP XML, is a CAP 1.2 message
(``domain.alerting.model.Alert``) and goes the same way: permission, dedup
on (sender, identifier, sent), expiry, jurisdiction (a geocode outside is
refused; a drawn shape reaching outside is a warning: it reaches only the
issuer's own screens), references (those
never received, and a message whose Update or Cancel came first, are in
``alert_chains.py``), then either ``pending-confirmation`` (two-person
rule) or activation: sign the notice,
pick the screens, write their delivery rows, commit, publish once per
region topic. Pushes go out only after the commit, so a screen that fetches
``GET /terminal/v1/alerts`` on the push finds the alert there. A request
with an ``Idempotency-Key`` keeps the key in that same commit and a retry
gets the alert it made (ADR 0015). The CAP and JSON ways in, and the key's
replay, are in ``alert_intake.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

import structlog

from lianbo.adapters.cap import parse_cap, to_cap_xml
from lianbo.adapters.db.repos.alerts import DuplicateAlert
from lianbo.adapters.db.uow import UnitOfWork
from lianbo.adapters.geo import alert_warnings, check_alert_jurisdiction
from lianbo.domain.alerting import lifecycle
from lianbo.domain.alerting.lifecycle import AlertAction, AlertState
from lianbo.domain.alerting.model import Alert, MsgType, Reference, Scope, Status
from lianbo.domain.alerting.reach import Reach
from lianbo.domain.alerting.records import StoredAlert
from lianbo.domain.alerting.rules import validate_alert
from lianbo.domain.alerting.signatures import SignatureCheck
from lianbo.domain.alerting.warnings import CapWarning, merged
from lianbo.domain.errors import Conflict, Forbidden, NotFound, Unprocessable
from lianbo.domain.idempotency import Claim, Outcome
from lianbo.domain.roles import Permission
from lianbo.domain.users import Actor
from lianbo.services import alert_chains as chains
from lianbo.services import alert_records as records
from lianbo.services import audit, idempotency
from lianbo.services.alert_activation import Publication, activate, announce, end, move
from lianbo.services.alert_identity import new_identifier
from lianbo.services.alert_outline import outline_of
from lianbo.services.alert_reach import reach_of
from lianbo.services.context import Context
from lianbo.services.duties import every

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class Issued:
    alert: StoredAlert
    created: bool
    replayed: bool = False  # the answer kept for the request's Idempotency-Key
    reach: Reach = field(default_factory=Reach)  # per region and tier (alert_reach.py)


def require_issuer(actor: Actor) -> None:
    if not actor.can(Permission.ISSUE_ALERTS):
        raise Forbidden("issuing alerts needs the issuer or admin role")


def _expired_path(alert: Alert, now: datetime) -> str | None:
    """The element that says the alert is over, when every info has ended."""
    ends = [(n, i.expires) for n, i in enumerate(alert.infos, 1) if i.expires is not None]
    if ends and all(end <= now for _, end in ends):
        return f"alert/info[{ends[0][0]}]/expires"
    return None


async def _shape_warnings(
    container: Context, uow: UnitOfWork, alert: Alert, jurisdiction: str
) -> tuple[CapWarning, ...]:
    """Polygons and circles reaching past the jurisdiction's outline (loaded
    only when the area has any): accepted, with a warning each."""
    if not any(area.polygons or area.circles for area in alert.areas()):
        return ()
    outline = await outline_of(container.outlines, uow, jurisdiction)
    return alert_warnings(alert, jurisdiction, outline)


async def issue(
    container: Context,
    uow: UnitOfWork,
    actor: Actor,
    alert: Alert,
    cap_xml: str | None = None,
    held: Claim | None = None,
    warnings: tuple[CapWarning, ...] = (),
    signature: SignatureCheck | None = None,
    hold: bool = False,
) -> Issued:
    """Take one CAP message; the same message twice is the same alert.
    ``held``: the request's idempotency key, kept with the alert;
    ``warnings``: what reading it found (kept with it, with the rules' own);
    ``signature``: its XML-DSig as checked (``services.cap_trust``);
    ``hold``: wait for an issuer's confirmation even when the two-person
    rule would not (a feed's rules, ``services.cap_feeds``).
    The answer says whom it reaches, per region and tier."""
    require_issuer(actor)
    checked = validate_alert(alert)
    existing = await uow.alerts.by_key(*alert.key)
    if existing is not None:
        if not actor.sees(existing.region):
            raise Conflict("this message was already issued in another jurisdiction")
        if held is not None:  # the key answers with this alert too
            await idempotency.keep(container, uow, held, Outcome(200, existing.id))
            await uow.commit()
        return Issued(existing, False, reach=await reach_of(uow, existing))
    now = container.clock.now()
    if alert.msg_type is not MsgType.CANCEL and alert.status is not Status.DRAFT:
        path = _expired_path(alert, now)
        if path is not None:
            raise Unprocessable(f"{path}: the alert expired before it arrived", field=path)
    check_alert_jurisdiction(alert, actor.jurisdiction)
    outside = await _shape_warnings(container, uow, alert, actor.jurisdiction)
    found = await chains.chain(uow, actor, alert)
    xml = cap_xml if cap_xml is not None else to_cap_xml(alert).decode("utf-8")
    stored = replace(
        records.new_record(container, actor, alert, xml, found.referenced, now),
        warnings=merged(warnings, checked, found.warnings, outside),
        cap_signature=signature,
    )
    if hold and stored.state is AlertState.ACTIVE:
        stored = replace(stored, state=AlertState.PENDING)
    stored = chains.arriving_late(stored, found.waiting, now)
    try:
        issued = await _record(container, uow, actor, alert, stored, found, held)
    except DuplicateAlert:  # a rival committed it first: answer from a fresh transaction
        async with container.uow() as fresh:
            again = await fresh.alerts.by_key(*alert.key)
            if again is None:
                raise
            return Issued(again, False, reach=await reach_of(fresh, again))
    return replace(issued, reach=await reach_of(uow, issued.alert))


async def _record(
    container: Context,
    uow: UnitOfWork,
    actor: Actor,
    alert: Alert,
    stored: StoredAlert,
    found: chains.Chain,
    held: Claim | None,
) -> Issued:
    # The key first: a concurrent request with it waits here, not after
    # writing a second alert's rows.
    await idempotency.keep(container, uow, held, Outcome(201, stored.id))
    await uow.alerts.add(stored)
    await chains.link(uow, stored, alert, found)
    publications: list[Publication] = []
    if alert.msg_type is MsgType.CANCEL:
        for ref in found.referenced:  # those already over stay as they are
            publications += await end(container, uow, ref) or []
    result = stored
    if stored.state is AlertState.ACTIVE:
        result, pushes = await activate(container, uow, stored, alert)
        publications += pushes
    await audit.record(
        uow,
        container.clock,
        actor,
        "alert.issue",
        ("alert", stored.id),
        region=stored.region,
        after=records.facts(result),
    )
    announce(uow, publications)
    await uow.commit()
    return Issued(result, True)


async def visible(uow: UnitOfWork, actor: Actor, alert_id: str) -> StoredAlert:
    """The alert, or 404 when absent or outside the caller's jurisdiction."""
    stored = await uow.alerts.get(alert_id)
    if stored is None or not actor.sees(stored.region):
        raise NotFound(f"no alert {alert_id}")
    return stored


async def _refusal(uow: UnitOfWork, stored: StoredAlert, action: AlertAction) -> Conflict:
    """The 409 for an alert another process moved while this one decided."""
    latest = await uow.alerts.fresh(stored.id)
    return lifecycle.refusal(stored.id, latest.state if latest else stored.state, action)


async def confirm(container: Context, uow: UnitOfWork, actor: Actor, alert_id: str) -> StoredAlert:
    """The second issuer's confirmation: the alert goes out now."""
    require_issuer(actor)
    stored = await visible(uow, actor, alert_id)
    lifecycle.confirm(alert_id, stored.state)
    if stored.issuer_id == actor.user_id:
        raise Forbidden("a second issuer must confirm: you issued this alert")
    if lifecycle.is_due(stored.expires, container.clock.now()):
        raise Unprocessable("the alert has expired", field="expires")
    alert = parse_cap(stored.cap_xml)
    check_alert_jurisdiction(alert, actor.jurisdiction)
    if await move(uow, stored, AlertAction.CONFIRM, confirmed_by=actor.username) is None:
        raise await _refusal(uow, stored, AlertAction.CONFIRM)  # a rival moved it first
    confirmed = replace(stored, confirmed_by=actor.username, state=AlertState.ACTIVE)
    result, pushes = await activate(container, uow, confirmed, alert)
    await audit.record(
        uow,
        container.clock,
        actor,
        "alert.confirm",
        ("alert", stored.id),
        region=stored.region,
        before={"state": AlertState.PENDING.value},
        after=records.facts(result),
    )
    announce(uow, pushes)
    await uow.commit()
    return result


async def cancel(container: Context, uow: UnitOfWork, actor: Actor, alert_id: str) -> StoredAlert:
    """Take an active (or pending) alert off every screen."""
    require_issuer(actor)
    stored = await visible(uow, actor, alert_id)
    lifecycle.cancel(alert_id, stored.state)
    publications = await end(container, uow, stored)
    if publications is None:
        raise await _refusal(uow, stored, AlertAction.CANCEL)  # a rival ended it first
    message = await _cancel_message(container, uow, actor, stored)
    await audit.record(
        uow,
        container.clock,
        actor,
        "alert.cancel",
        ("alert", stored.id),
        region=stored.region,
        before={"state": stored.state.value},
        after={"state": AlertState.CANCELLED.value, "cancel_message": message.id},
    )
    announce(uow, publications)
    await uow.commit()
    result = await uow.alerts.get(alert_id)
    assert result is not None
    return result


async def _cancel_message(
    container: Context, uow: UnitOfWork, actor: Actor, stored: StoredAlert
) -> StoredAlert:
    """The CAP Cancel a console or API cancel stands for, kept (and exported)
    like an imported one, so other systems can follow the chain."""
    now = container.clock.now()
    original = parse_cap(stored.cap_xml)  # its "sent" as written, offset and all
    message = Alert(
        identifier=await new_identifier(container, uow, now),
        sender=container.settings.alert_sender,
        sent=now.replace(microsecond=0),
        status=Status(stored.status),
        msg_type=MsgType.CANCEL,
        scope=Scope.PUBLIC,
        note=f"cancelled by {actor.username}",
        references=(Reference(stored.sender, stored.identifier, original.sent),),
    )
    validate_alert(message)
    xml = to_cap_xml(message).decode("utf-8")
    record = replace(
        records.new_record(container, actor, message, xml, [stored], now), region=stored.region
    )
    await uow.alerts.add(record)
    await uow.alerts.add_references(record.id, [stored.id])
    return record


async def expire_due(container: Context) -> list[str]:
    """Mark alerts whose time is up; screens end them by ``expires`` themselves."""
    async with container.uow() as uow:
        ids = await uow.alerts.expire(container.clock.now())
        await uow.commit()
    if ids:
        log.info("alerts expired", count=len(ids))
    return ids


async def run_expiry(container: Context, every_s: float = 5.0) -> None:
    """Leader duty: expire alerts every few seconds while the server runs."""
    await every(every_s, lambda: expire_due(container), "alert expiry sweep")
