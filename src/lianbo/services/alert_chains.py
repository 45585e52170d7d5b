"""Update and Cancel chains, whichever message arrives first (docs/alerts.md,
"Messages we never received").

CAP senders deliver out of order and receivers miss messages. An Update or
Cancel naming a message we never received is accepted: the Update stands
as its own alert, the Cancel is recorded and cancels nothing, and each
says so in a warning. The message they name is *awaited* (a row per CAP
key): when it arrives it is linked to them, and being older than its own
Update or Cancel it arrives ended (superseded or cancelled), never on air.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.alerting import lifecycle
from lianbo.domain.alerting import text as captext
from lianbo.domain.alerting.lifecycle import AlertState
from lianbo.domain.alerting.model import Alert, MsgType, Reference
from lianbo.domain.alerting.records import StoredAlert
from lianbo.domain.alerting.warnings import CapWarning, WarningCode
from lianbo.domain.errors import Forbidden
from lianbo.domain.users import Actor


@dataclass(frozen=True, slots=True)
class Chain:
    """How a new message links to the ones around it."""

    referenced: list[StoredAlert] = field(default_factory=list)  # what it names, held
    missing: list[Reference] = field(default_factory=list)  # what it names, never received
    waiting: list[StoredAlert] = field(default_factory=list)  # Updates/Cancels that came first
    warnings: tuple[CapWarning, ...] = ()


async def chain(uow: UnitOfWork, actor: Actor, alert: Alert) -> Chain:
    """The stored alerts this message names (403 for one outside the
    jurisdiction), those it names that never came, and those waiting for it."""
    referenced, missing, warnings = [], [], []
    if alert.msg_type in (MsgType.UPDATE, MsgType.CANCEL):
        cancel = alert.msg_type is MsgType.CANCEL
        code = WarningCode.CANCEL_UNKNOWN if cancel else WarningCode.UPDATE_UNKNOWN
        for n, ref in enumerate(alert.references, 1):
            stored = await uow.alerts.by_key(*ref.key)
            if stored is None:
                missing.append(ref)
                triplet = captext.format_references((ref,))
                warnings.append(CapWarning(f"alert/references[{n}]", code, triplet))
                continue
            if not actor.sees(stored.region):
                raise Forbidden(
                    f"reference {n} names an alert outside jurisdiction {actor.jurisdiction}",
                    field="alert/references",
                )
            referenced.append(stored)
    waiting = []
    for alert_id in await uow.alerts.awaiting(alert.key):
        found = await uow.alerts.get(alert_id)
        if found is not None and actor.sees(found.region):  # another's chain stays theirs
            waiting.append(found)
    return Chain(referenced, missing, waiting, tuple(warnings))


def arriving_late(stored: StoredAlert, waiting: list[StoredAlert], now: datetime) -> StoredAlert:
    """A message whose Cancel or Update came first arrives ended: cancelled,
    or superseded by the newest Update."""
    if stored.state not in lifecycle.LIVE or not waiting:
        return stored
    cancels = [w for w in waiting if w.msg_type == MsgType.CANCEL.value]
    if cancels:
        warning = CapWarning("alert", WarningCode.CANCELLED_FIRST, cancels[0].identifier)
        state, by = AlertState.CANCELLED, None
    else:
        newest = max(waiting, key=lambda w: w.sent)
        warning = CapWarning("alert", WarningCode.UPDATED_FIRST, newest.identifier)
        state, by = AlertState.SUPERSEDED, newest.id
    warnings = (*stored.warnings, warning)
    return replace(stored, state=state, ended_at=now, superseded_by=by, warnings=warnings)


async def link(uow: UnitOfWork, stored: StoredAlert, alert: Alert, found: Chain) -> None:
    """Write the links: what it names, what it awaits, who waited for it."""
    await uow.alerts.add_references(stored.id, [r.id for r in found.referenced])
    await uow.alerts.await_messages(stored.id, [ref.key for ref in found.missing])
    for waiting in found.waiting:
        await uow.alerts.add_references(waiting.id, [stored.id])
    if found.waiting:
        await uow.alerts.arrived(alert.key, [w.id for w in found.waiting])
