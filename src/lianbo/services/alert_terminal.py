"""The terminal's side of alerts: what it must show now, and its acks.

``GET /terminal/v1/alerts`` is the guaranteed-delivery path: a player calls
it on every (re)connect and when polling, and gets every active alert whose
area covers it (and the cancel notice of anything cancelled it may still
show). A terminal that was offline, or enrolled after the alert went out,
gets its delivery row there and then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lianbo.adapters.db.repos.alert_deliveries import Key
from lianbo.adapters.db.repos.alerts import Screen
from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.alerting import deliveries
from lianbo.domain.alerting.deliveries import DeliveryState, Step
from lianbo.domain.alerting.geofence import in_any_area
from lianbo.domain.alerting.records import StoredAlert
from lianbo.domain.errors import DomainError, NotFound
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


def screen_of(terminal: Terminal) -> Screen:
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
            await uow.deliveries.add_deliveries(alert.id, [screen_of(terminal)], now)
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


@dataclass(frozen=True, slots=True)
class Ack:
    """One screen's report on one alert (its state already checked)."""

    terminal_id: str
    alert_id: str
    state: DeliveryState
    reason: str | None = None

    @property
    def key(self) -> Key:
        return (self.alert_id, self.terminal_id)


Outcome = Acked | DomainError  # each ack's own answer: its result or its 4xx


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
    screen's own time) is accepted for the contract but not trusted. The
    HTTP route batches acks (``services/alert_acks.py``); this is the same
    rule for one."""
    del at
    [outcome] = await apply_acks(
        uow, container.clock.now(), [Ack(terminal.id, alert_id, check_state(state), reason)]
    )
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


async def apply_acks(uow: UnitOfWork, now: datetime, acks: Sequence[Ack]) -> list[Outcome]:
    """Apply many acks in one transaction, and commit: each ack's outcome, in order.

    As if they came one after another: an ack at or behind where its row
    already is (or where an earlier ack of this batch took it) changes
    nothing and says where the row is. Each row is read (locked, on
    PostgreSQL) once and moved once, to the furthest state reported,
    stamping every moment on the way. An ack for an unknown alert, or for
    one that is not this screen's, gets its own 404; the others are kept."""
    keys = sorted({a.key for a in acks})
    current = await uow.deliveries.states(keys, lock=True)
    late = [(i, a) for i, a in enumerate(acks) if a.key not in current]
    outcomes: dict[int, Outcome] = await _add_late(uow, now, late) if late else {}
    if late:  # the rows just written (or a rival's, written a moment before)
        current.update(await uow.deliveries.states(sorted({a.key for _, a in late}), lock=True))
    steps: dict[Key, list[Step]] = {}
    for i, one in enumerate(acks):
        if i in outcomes:
            continue
        step = deliveries.advance(current[one.key], one.state, one.reason)
        if step is not None:
            current[one.key] = one.state
            steps.setdefault(one.key, []).append(step)
        outcomes[i] = Acked(one.alert_id, current[one.key], step is not None)
    lost = await _write(uow, now, steps)
    if lost:  # a rival report moved these rows first: say where they are
        latest = await uow.deliveries.states(sorted(lost))
        for i, one in enumerate(acks):
            if one.key in lost:
                outcomes[i] = Acked(one.alert_id, latest.get(one.key, one.state), False)
    await uow.commit()
    return [outcomes[i] for i in range(len(acks))]


async def _add_late(
    uow: UnitOfWork, now: datetime, late: Sequence[tuple[int, Ack]]
) -> dict[int, Outcome]:
    """Rows for screens acking an alert they have none for (not targeted when
    issued: enrolled later, or heard it only on its region topic) when its
    area covers them; for the acks of the others, their answer: a report it
    may make about an alert only heard on its topic, or a 404."""
    alerts: dict[str, StoredAlert | None] = {}
    terminals: dict[str, Terminal | None] = {}
    rows: dict[str, dict[str, Screen]] = {}
    answers: dict[int, Outcome] = {}
    for i, one in late:
        if one.alert_id not in alerts:
            alerts[one.alert_id] = await uow.alerts.get(one.alert_id)
        alert = alerts[one.alert_id]
        if alert is None:
            answers[i] = NotFound(f"no alert {one.alert_id}")
            continue
        if one.terminal_id not in terminals:
            terminals[one.terminal_id] = await uow.terminals.get(one.terminal_id)
        terminal = terminals[one.terminal_id]
        if terminal is not None and covers(alert, terminal):
            rows.setdefault(alert.id, {})[terminal.id] = screen_of(terminal)
        elif terminal is not None and _heard(alert, terminal) and one.state in HEARD_ONLY:
            answers[i] = Acked(one.alert_id, one.state, False)
        else:
            answers[i] = NotFound(f"alert {one.alert_id} is not for this terminal")
    for alert_id in sorted(rows):
        await uow.deliveries.add_deliveries(alert_id, list(rows[alert_id].values()), now)
    return answers


def _heard(alert: StoredAlert, terminal: Terminal) -> bool:
    """Was the alert published on a region topic this screen listens to?"""
    return any(terminal.region.startswith(topic) for topic in alert.topics)


async def _write(uow: UnitOfWork, now: datetime, steps: dict[Key, list[Step]]) -> set[Key]:
    """Each row's steps as one, many rows of an alert per statement; the rows
    that did not move (another report got there first)."""
    grouped: dict[tuple[str, Step], list[str]] = {}
    for (alert_id, terminal_id), taken in steps.items():
        grouped.setdefault((alert_id, _merged(taken)), []).append(terminal_id)
    lost: set[Key] = set()
    for (alert_id, step), terminal_ids in grouped.items():
        moved = await uow.deliveries.advance_many(alert_id, terminal_ids, step, now)
        lost.update((alert_id, t) for t in terminal_ids if t not in moved)
    return lost


def _merged(steps: Sequence[Step]) -> Step:
    """Steps taken one after another on one row, as one: the last state (the
    furthest: each step moved forward), every moment any of them stamps, the
    last reason given."""
    moments = tuple(s for s in DeliveryState if any(s in step.moments for step in steps))
    reason = next((step.reason for step in reversed(steps) if step.reason is not None), None)
    return Step(steps[-1].state, steps[-1].sources, moments, reason)
