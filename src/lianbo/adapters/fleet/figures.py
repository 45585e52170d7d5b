"""What a fleet channel counts for ``/metrics`` (``api/fleet_metrics.py``).

Every process counts what it refused itself: messages from screens
(``inbox.REFUSALS``) and, where lianbo decides logins (the hub's sockets,
the NATS auth callout), each login's outcome. A publish the broker itself
denies (a screen writing another screen's topic) never reaches lianbo:
mosquitto and NATS only log it (docs/broker.md, "What is counted").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

# Login outcomes (the NATS callout adds "malformed": a request it could not read).
ACCEPTED, REFUSED, FAILED = "accepted", "refused", "failed"
LOGIN_OUTCOMES = (ACCEPTED, REFUSED, "malformed", FAILED)


@dataclass(frozen=True, slots=True)
class FleetFigures:
    """``connected``: to the broker (None: the hub has none); ``refused``:
    messages by reason; ``logins``: outcomes, None where the broker decides
    alone (mosquitto's password file)."""

    connected: bool | None
    refused: Mapping[str, int]
    logins: Mapping[str, int] | None


@runtime_checkable
class Counted(Protocol):
    """A fleet channel that counts (the hub, the broker channels)."""

    def figures(self) -> FleetFigures: ...


def fleet_figures(fleet: object) -> FleetFigures | None:
    """The channel's figures; None for one that keeps none (a test's fake)."""
    return fleet.figures() if isinstance(fleet, Counted) else None


def broker_ready(fleet: object) -> bool:
    """For ``/healthz``: whether a channel on a broker is connected
    (``TopicFleet.ready``); the hub has no broker to lose."""
    from lianbo.adapters.fleet.topic_fleet import TopicFleet  # it imports this module

    return fleet.ready if isinstance(fleet, TopicFleet) else True
