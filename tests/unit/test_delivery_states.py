"""One alert on one screen (domain.alerting.deliveries): every (state, report) pair."""

from __future__ import annotations

from itertools import product

import pytest

from lianbo.domain.alerting import deliveries
from lianbo.domain.alerting.deliveries import DeliveryState
from lianbo.domain.errors import InvalidInput
from lianbo.protocol.alerts import ACK_STATES

D = DeliveryState
# Which reports move a delivery forward from each state; every other report
# is idempotent (answered, nothing changes).
FORWARD: dict[DeliveryState, set[DeliveryState]] = {
    D.SENT: {D.RECEIVED, D.VERIFIED, D.DISPLAYED, D.OUTSIDE_AREA, D.FAILED, D.CANCELLED},
    D.RECEIVED: {D.VERIFIED, D.DISPLAYED, D.OUTSIDE_AREA, D.FAILED, D.CANCELLED},
    D.VERIFIED: {D.DISPLAYED, D.OUTSIDE_AREA, D.FAILED, D.CANCELLED},
    D.DISPLAYED: {D.CANCELLED},
    D.OUTSIDE_AREA: {D.CANCELLED},
    D.FAILED: {D.CANCELLED},
    D.CANCELLED: set(),
}
# The moments each reported state stamps (those it skipped included).
MOMENTS = {
    D.RECEIVED: (D.RECEIVED,),
    D.VERIFIED: (D.RECEIVED, D.VERIFIED),
    D.DISPLAYED: (D.RECEIVED, D.VERIFIED, D.DISPLAYED),
    D.OUTSIDE_AREA: (D.RECEIVED, D.VERIFIED, D.OUTSIDE_AREA),
    D.FAILED: (D.RECEIVED, D.FAILED),
    D.CANCELLED: (D.CANCELLED,),
}
PAIRS = list(product(DeliveryState, deliveries.REPORTABLE))


def test_the_table_names_every_state() -> None:
    assert set(FORWARD) == set(DeliveryState)
    assert set(MOMENTS) == set(deliveries.REPORTABLE)


def test_a_screen_reports_what_the_wire_protocol_allows() -> None:
    assert tuple(deliveries.REPORTABLE) == ACK_STATES
    assert D.SENT not in deliveries.REPORTABLE


@pytest.mark.parametrize(("current", "new"), PAIRS)
def test_advance(current: DeliveryState, new: DeliveryState) -> None:
    step = deliveries.advance(current, new)
    if new not in FORWARD[current]:
        assert step is None  # idempotent: a repeated or late report changes nothing
        return
    assert step is not None
    assert step.state is new and step.moments == MOMENTS[new] and step.reason is None
    assert current in step.sources  # the store's guard lets this row move


@pytest.mark.parametrize(("current", "new"), PAIRS)
def test_the_guard_is_the_table(current: DeliveryState, new: DeliveryState) -> None:
    assert (current in deliveries.sources(new)) is (new in FORWARD[current])
    assert deliveries.may_follow(current, new) is (new in FORWARD[current])


def test_states_never_move_back_nor_between_outcomes() -> None:
    for current, new in product(DeliveryState, DeliveryState):
        if deliveries.may_follow(current, new):
            assert not deliveries.may_follow(new, current)
    outcomes = (D.DISPLAYED, D.OUTSIDE_AREA, D.FAILED)
    assert not any(deliveries.may_follow(a, b) for a, b in product(outcomes, outcomes))


def test_cancelled_is_final() -> None:
    assert all(deliveries.advance(D.CANCELLED, new) is None for new in DeliveryState)


@pytest.mark.parametrize("state", [*ACK_STATES])
def test_a_reported_state_is_taken(state: str) -> None:
    assert deliveries.reported(state) == state


@pytest.mark.parametrize("state", ["sent", "shown", "", None, 3, "DISPLAYED"])
def test_anything_else_is_refused_naming_the_allowed_states(state: object) -> None:
    with pytest.raises(InvalidInput, match="state must be one of received, verified") as refused:
        deliveries.reported(state)
    assert refused.value.field == "state"


def test_the_reason_is_kept_and_a_long_one_cut() -> None:
    step = deliveries.advance(D.SENT, D.FAILED, "bad signature")
    assert step is not None and step.reason == "bad signature"
    long = deliveries.advance(D.SENT, D.FAILED, "x" * 500)
    assert long is not None and long.reason == "x" * deliveries.REASON_MAX
