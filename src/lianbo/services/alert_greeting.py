"""What a screen's socket greeting carries: its facts and its alerts, for
many screens at once.

``GET /terminal/v1/alerts`` answers one screen (``alert_terminal.for_terminal``);
the hub's ``hello`` answers the same for every screen that connects
(``WebSocketHub.greet``). When a process dies its screens all come back
within seconds; asked one by one that is four queries and a commit per
screen. Here the screens connecting at the same moment are answered
together (the hub coalesces them: ``adapters/fleet/directory.Batcher``):
the live alerts read once, whose rows exist in one query, the missing rows
written one statement per alert, the withdrawn ones in one query, one
commit. Each screen gets exactly what ``for_terminal`` would list.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.alerting.records import StoredAlert
from lianbo.domain.terminals import Terminal
from lianbo.services import alert_notice as notices
from lianbo.services.alert_terminal import covers, screen_of, terminal_facts

Greeting = dict[str, Any]  # {"terminal": facts, "alerts": push bodies with ``type``}


async def greetings(
    uow: UnitOfWork, terminal_ids: Sequence[str], now: datetime
) -> dict[str, Greeting]:
    """Per terminal the store still has: its facts and what it must show or
    clear, delivery rows written for alerts that reach it and had none."""
    terminals = await uow.terminals.get_many(terminal_ids)
    ids = [t.id for t in terminals]
    listed: dict[str, list[dict[str, Any]]] = {t.id: [] for t in terminals}
    active = await uow.alerts.active(now)
    delivered = await uow.deliveries.delivered_pairs(ids, [a.id for a in active])
    for alert in active:
        reached = await _reach(uow, alert, terminals, delivered, now)
        body = notices.stored_push("alert", alert.id, *_signed(alert))
        for terminal_id in reached:
            listed[terminal_id].append(body)
    withdrawn = await uow.deliveries.withdrawn_for(ids, now)
    for alert_id in sorted({a for a, _ in withdrawn}):
        body_of = await _cancel(uow, alert_id)
        for terminal_id in ids:
            if body_of is not None and (alert_id, terminal_id) in withdrawn:
                listed[terminal_id].append(body_of)
    await uow.commit()
    return {t.id: {"terminal": terminal_facts(t), "alerts": listed[t.id]} for t in terminals}


async def _reach(
    uow: UnitOfWork,
    alert: StoredAlert,
    terminals: list[Terminal],
    delivered: set[tuple[str, str]],
    now: datetime,
) -> list[str]:
    """The terminals this alert is listed for: those with its row, and those
    it covers (their rows written now, as a fetch writes them)."""
    had = [t.id for t in terminals if (alert.id, t.id) in delivered]
    new = [t for t in terminals if (alert.id, t.id) not in delivered and covers(alert, t)]
    if new:
        await uow.deliveries.add_deliveries(alert.id, [screen_of(t) for t in new], now)
    return had + [t.id for t in new]


async def _cancel(uow: UnitOfWork, alert_id: str) -> dict[str, Any] | None:
    """The ``alert-cancel`` body of a withdrawn alert (None without a notice)."""
    gone = await uow.alerts.get(alert_id)
    if gone is None or not (gone.cancel_notice and gone.cancel_signature and gone.cancel_key_id):
        return None
    return notices.stored_push(
        "alert-cancel", gone.id, gone.cancel_notice, gone.cancel_signature, gone.cancel_key_id
    )


def _signed(alert: StoredAlert) -> tuple[str, str, str]:
    assert alert.notice and alert.signature and alert.key_id
    return alert.notice, alert.signature, alert.key_id
