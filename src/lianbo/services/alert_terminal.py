"""The terminal's side of alerts: what it must show now, and its acks.

``GET /terminal/v1/alerts`` is the guaranteed-delivery path: a player calls
it on every (re)connect and when polling, and gets every active alert whose
area covers it (and the cancel notice of anything cancelled it may still
show). A terminal that was offline, or enrolled after the alert went out,
gets its delivery row there and then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lianbo.adapters.db.repos.alerts import Screen
from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.alerting import deliveries
from lianbo.domain.alerting.deliveries import DeliveryState
from lianbo.domain.alerting.geofence import in_any_area
from lianbo.domain.alerting.records import StoredAlert
from lianbo.domain.errors import NotFound
from lianbo.domain.regions import is_within
from lianbo.domain.terminals import Terminal, display_language
from lianbo.services import alert_notice as notices
from lianbo.services.context import Context

# Reports a screen may make about an alert whose area does not reach it but
# whose region topic did: nothing to track, and no error either.
HEARD_ONLY = (
    DeliveryState.OUTSIDE_AREA,
    DeliveryState.RECEIVED,
    DeliveryState.VERIFIED,
    DeliveryState.FAILED,
)


@dataclass(frozen=True, slots=True)
class Acked:
    alert_id: str
    state: str
    changed: bool


def covers(alert: StoredAlert, terminal: Terminal) -> bool:
    """Does the alert's area reach this terminal (the device-side rule)?"""
    if not is_within(terminal.region, alert.region):
        return False
    areas = notices.areas_from_json(alert.area)
    return in_any_area(terminal.latitude, terminal.longitude, areas, terminal.region)


def _screen(terminal: Terminal) -> Screen:
    return Screen(
        terminal.id,
        terminal.tier.value,
        terminal.region,
        terminal.latitude,
        terminal.longitude,
    )


def terminal_facts(terminal: Terminal) -> dict[str, Any]:
    return {
        "id": terminal.id,
        "tier": terminal.tier.value,
        "region": terminal.region,
        "latitude": terminal.latitude,
        "longitude": terminal.longitude,
        "language": display_language(terminal.tags),
    }


async def for_terminal(
    container: Context, uow: UnitOfWork, terminal: Terminal
) -> list[dict[str, Any]]:
    """Push bodies (with ``type``) of what this terminal must show or clear."""
    now = container.clock.now()
    active = await uow.alerts.active(now)
    delivered = await uow.deliveries.delivered_ids(terminal.id, [a.id for a in active])
    found: list[dict[str, Any]] = []
    for alert in active:
        if alert.id not in delivered:
            if not covers(alert, terminal):
                continue
            await uow.deliveries.add_deliveries(alert.id, [_screen(terminal)], now)
        assert alert.notice and alert.signature and alert.key_id
        found.append(
            notices.stored_push("alert", alert.id, alert.notice, alert.signature, alert.key_id)
        )
    for alert in await uow.alerts.cancelled_for(terminal.id, now):
        if alert.cancel_notice and alert.cancel_signature and alert.cancel_key_id:
            found.append(
                notices.stored_push(
                    "alert-cancel",
                    alert.id,
                    alert.cancel_notice,
                    alert.cancel_signature,
                    alert.cancel_key_id,
                )
            )
    await uow.commit()
    return found


def check_state(state: object) -> DeliveryState:
    """A screen's reported state, or a 400 naming the allowed ones."""
    return deliveries.reported(state)


async def ack(
    container: Context,
    uow: UnitOfWork,
    terminal: Terminal,
    alert_id: str,
    state: str,
    reason: str | None,
    at: datetime | None = None,
) -> Acked:
    """Record how far the alert got on this screen (never backwards).

    Timestamps are the server's: a screen's clock may be off. ``at`` (the
    screen's own time) is accepted for the contract but not trusted."""
    del at
    new = check_state(state)
    delivery = await uow.deliveries.delivery(alert_id, terminal.id)
    now = container.clock.now()
    current = delivery.state if delivery else DeliveryState.SENT
    if delivery is None:  # not targeted when issued: late, or only on its topic
        alert = await uow.alerts.get(alert_id)
        if alert is None:
            raise NotFound(f"no alert {alert_id}")
        heard = any(terminal.region.startswith(t) for t in alert.topics)
        if not covers(alert, terminal):
            if heard and new in HEARD_ONLY:
                return Acked(alert_id, new, False)
            raise NotFound(f"alert {alert_id} is not for this terminal")
        await uow.deliveries.add_deliveries(alert_id, [_screen(terminal)], now)
    step = deliveries.advance(current, new, reason)
    changed = step is not None and await uow.deliveries.advance(alert_id, terminal.id, step, now)
    await uow.commit()
    if changed:
        return Acked(alert_id, new, True)
    if delivery is None or step is not None:  # another report got there first: say where
        latest = await uow.deliveries.delivery(alert_id, terminal.id)
        current = latest.state if latest else current
    return Acked(alert_id, current, False)
