"""An alert's life as a pure state machine (docs/alerts.md, "Alert states").

    pending-confirmation ─confirm─▶ active
            │                         │
            └──── cancel | supersede | expire ───▶ cancelled | superseded | expired

    recorded: kept and exported, never disseminated (Draft, Cancel, Ack, Error)

A new message starts ``recorded``, ``pending-confirmation`` (the two-person
rule) or ``active``. Only a live alert (pending or active) moves, and only
forward; every ended state is final. This module decides *what* the next
state is; the store makes the change atomic (an UPDATE conditional on the
state the decision was made from, or for a sweep on the states ``sources``
names), so two processes acting on one alert at once cannot both win: the
loser reloads and decides again, which for a confirm or a second cancel is
a refusal (409).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from lianbo.domain.alerting.model import MsgType, Status
from lianbo.domain.errors import Conflict


class AlertState(StrEnum):
    ACTIVE = "active"
    PENDING = "pending-confirmation"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    RECORDED = "recorded"


class AlertAction(StrEnum):
    """What may happen to a stored alert."""

    CONFIRM = "confirm"  # the second issuer (two-person rule)
    CANCEL = "cancel"  # an issuer, or a CAP Cancel referencing it
    SUPERSEDE = "supersede"  # an Update referencing it
    EXPIRE = "expire"  # its time is up (the expiry duty)


LIVE: tuple[AlertState, ...] = (AlertState.PENDING, AlertState.ACTIVE)
# Ended by an issuer with a signed cancel notice that screens must still get.
WITHDRAWN: tuple[AlertState, ...] = (AlertState.CANCELLED, AlertState.SUPERSEDED)
FINAL: tuple[AlertState, ...] = (*WITHDRAWN, AlertState.EXPIRED, AlertState.RECORDED)

_TRANSITIONS: dict[tuple[AlertState, AlertAction], AlertState] = {
    (AlertState.PENDING, AlertAction.CONFIRM): AlertState.ACTIVE,
    **{(s, AlertAction.CANCEL): AlertState.CANCELLED for s in LIVE},
    **{(s, AlertAction.SUPERSEDE): AlertState.SUPERSEDED for s in LIVE},
    **{(s, AlertAction.EXPIRE): AlertState.EXPIRED for s in LIVE},
}

# Messages kept and exported but never sent to screens.
NOT_DISSEMINATED = (MsgType.CANCEL, MsgType.ACK, MsgType.ERROR)


def initial_state(status: Status, msg_type: MsgType, needs_confirmation: bool) -> AlertState:
    """The state a message is stored in: ``recorded``, ``pending-confirmation``
    or (about to be) ``active``."""
    if status is Status.DRAFT or msg_type in NOT_DISSEMINATED:
        return AlertState.RECORDED
    return AlertState.PENDING if needs_confirmation else AlertState.ACTIVE


def after(state: AlertState, action: AlertAction) -> AlertState | None:
    """The state ``action`` leads to from ``state``; None when it may not happen."""
    return _TRANSITIONS.get((state, action))


def sources(action: AlertAction) -> tuple[AlertState, ...]:
    """Every state ``action`` may start from (the store's guard)."""
    return tuple(s for s in AlertState if (s, action) in _TRANSITIONS)


def refusal(alert_id: str, state: AlertState, action: AlertAction) -> Conflict:
    """Why ``action`` may not happen to an alert in ``state`` (a 409)."""
    if action is AlertAction.CONFIRM:
        return Conflict(f"alert {alert_id} is {state.value}, not waiting for confirmation")
    return Conflict(f"alert {alert_id} is {state.value}; only an active alert can be cancelled")


def confirm(alert_id: str, state: AlertState) -> AlertState:
    """A confirmation: only a pending alert goes out; anything else is a 409."""
    target = after(state, AlertAction.CONFIRM)
    if target is None:
        raise refusal(alert_id, state, AlertAction.CONFIRM)
    return target


def cancel(alert_id: str, state: AlertState) -> AlertState:
    """An issuer's cancel: only a live alert; a second cancel is a 409."""
    target = after(state, AlertAction.CANCEL)
    if target is None:
        raise refusal(alert_id, state, AlertAction.CANCEL)
    return target


def on_air(state: AlertState) -> bool:
    """Was it pushed to screens (so ending it needs a cancel push)?"""
    return state is AlertState.ACTIVE


def is_due(expires: datetime, now: datetime) -> bool:
    """Has a live alert's time run out (it then expires)?"""
    return expires <= now
