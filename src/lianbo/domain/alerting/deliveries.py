"""One alert on one screen: its delivery state (docs/alerts.md, "Delivery states").

    sent ─▶ received ─▶ verified ─▶ displayed | outside-area
      └────────┴─────────▶ failed              (with a reason)
    any of them ─▶ cancelled                   (the screen took it off)

``sent`` is written at issue (or when the screen fetches the alert later);
every other state is a screen's report (``protocol.alerts.ACK_STATES``).
States only move forward: a report at or behind the current state changes
nothing (a repeated or late ack is idempotent, never an error). Moving
forward fills the moments of the states it skipped, so counts mean "reached
at least this state". This module decides the step; the store applies it
with a conditional UPDATE on ``Step.sources``, so two reports racing on two
processes leave the furthest one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lianbo.domain.errors import InvalidInput


class DeliveryState(StrEnum):
    SENT = "sent"
    RECEIVED = "received"
    VERIFIED = "verified"
    DISPLAYED = "displayed"
    OUTSIDE_AREA = "outside-area"
    FAILED = "failed"
    CANCELLED = "cancelled"


# How far along each state is; outcomes (displayed, outside-area, failed)
# share a rank, so one never overwrites another.
RANK: dict[DeliveryState, int] = {
    DeliveryState.SENT: 0,
    DeliveryState.RECEIVED: 1,
    DeliveryState.VERIFIED: 2,
    DeliveryState.DISPLAYED: 3,
    DeliveryState.OUTSIDE_AREA: 3,
    DeliveryState.FAILED: 3,
    DeliveryState.CANCELLED: 4,
}
# The moments a state implies: it fills those of the states it skipped.
MOMENTS: dict[DeliveryState, tuple[DeliveryState, ...]] = {
    DeliveryState.SENT: (DeliveryState.SENT,),
    DeliveryState.RECEIVED: (DeliveryState.RECEIVED,),
    DeliveryState.VERIFIED: (DeliveryState.RECEIVED, DeliveryState.VERIFIED),
    DeliveryState.DISPLAYED: (
        DeliveryState.RECEIVED,
        DeliveryState.VERIFIED,
        DeliveryState.DISPLAYED,
    ),
    DeliveryState.OUTSIDE_AREA: (
        DeliveryState.RECEIVED,
        DeliveryState.VERIFIED,
        DeliveryState.OUTSIDE_AREA,
    ),
    DeliveryState.FAILED: (DeliveryState.RECEIVED, DeliveryState.FAILED),
    DeliveryState.CANCELLED: (DeliveryState.CANCELLED,),
}
# What a screen may report: everything but the server's own ``sent``.
REPORTABLE = tuple(s for s in DeliveryState if s is not DeliveryState.SENT)
REASON_MAX = 200  # longer reasons are cut, not refused: a screen's report is kept


@dataclass(frozen=True, slots=True)
class Step:
    """A move forward: the new state, the states it may replace, the moments
    it stamps (those not stamped yet) and the screen's reason, if any."""

    state: DeliveryState
    sources: tuple[DeliveryState, ...]
    moments: tuple[DeliveryState, ...]
    reason: str | None


def reported(state: object) -> DeliveryState:
    """A screen's reported state; anything else is a 400 naming the allowed ones."""
    if not isinstance(state, str) or state not in REPORTABLE:
        raise InvalidInput(f"state must be one of {', '.join(REPORTABLE)}", field="state")
    return DeliveryState(state)


def sources(state: DeliveryState) -> tuple[DeliveryState, ...]:
    """Every state ``state`` may follow (the store's guard)."""
    return tuple(s for s, rank in RANK.items() if rank < RANK[state])


def may_follow(current: DeliveryState, new: DeliveryState) -> bool:
    """Does ``new`` move a delivery at ``current`` forward?"""
    return RANK[current] < RANK[new]


def advance(current: DeliveryState, new: DeliveryState, reason: str | None = None) -> Step | None:
    """The step from ``current`` to ``new``; None when it is already that far
    (same state, a later one, or another outcome): nothing to change."""
    if not may_follow(current, new):
        return None
    return Step(new, sources(new), MOMENTS[new], reason[:REASON_MAX] if reason else reason)
