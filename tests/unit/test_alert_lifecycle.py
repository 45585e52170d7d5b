"""An alert's states (domain.alerting.lifecycle): every (state, action) pair."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from lianbo.domain.alerting import lifecycle
from lianbo.domain.alerting.lifecycle import AlertAction, AlertState
from lianbo.domain.alerting.model import MsgType, Status
from lianbo.domain.errors import Conflict

S, A = AlertState, AlertAction
# The whole table: what each action leads to from each state ("-" = may not happen).
TABLE: dict[AlertState, dict[AlertAction, AlertState | None]] = {
    S.PENDING: {
        A.CONFIRM: S.ACTIVE,
        A.CANCEL: S.CANCELLED,
        A.SUPERSEDE: S.SUPERSEDED,
        A.EXPIRE: S.EXPIRED,
    },
    S.ACTIVE: {
        A.CONFIRM: None,
        A.CANCEL: S.CANCELLED,
        A.SUPERSEDE: S.SUPERSEDED,
        A.EXPIRE: S.EXPIRED,
    },
    S.CANCELLED: dict.fromkeys(A),
    S.EXPIRED: dict.fromkeys(A),
    S.SUPERSEDED: dict.fromkeys(A),
    S.RECORDED: dict.fromkeys(A),
}
PAIRS = list(product(AlertState, AlertAction))


def test_the_table_names_every_state_and_action() -> None:
    assert set(TABLE) == set(AlertState)
    assert all(set(row) == set(AlertAction) for row in TABLE.values())


def test_state_names_are_those_the_api_and_docs_use() -> None:
    assert [s.value for s in AlertState] == [
        "active",
        "pending-confirmation",
        "cancelled",
        "expired",
        "superseded",
        "recorded",
    ]


@pytest.mark.parametrize(("state", "action"), PAIRS)
def test_after(state: AlertState, action: AlertAction) -> None:
    assert lifecycle.after(state, action) is TABLE[state][action]


@pytest.mark.parametrize(("state", "action"), PAIRS)
def test_sources_are_exactly_the_states_an_action_may_start_from(
    state: AlertState, action: AlertAction
) -> None:
    assert (state in lifecycle.sources(action)) is (TABLE[state][action] is not None)


@pytest.mark.parametrize("action", list(AlertAction))
def test_each_action_leads_to_one_state(action: AlertAction) -> None:
    assert len({lifecycle.after(s, action) for s in lifecycle.sources(action)}) == 1


@pytest.mark.parametrize("state", lifecycle.FINAL)
def test_an_ended_alert_never_moves(state: AlertState) -> None:
    assert all(lifecycle.after(state, action) is None for action in AlertAction)


def test_live_and_final_split_the_states() -> None:
    assert set(lifecycle.LIVE) | set(lifecycle.FINAL) == set(AlertState)
    assert not set(lifecycle.LIVE) & set(lifecycle.FINAL)
    assert set(lifecycle.WITHDRAWN) == {S.CANCELLED, S.SUPERSEDED}


@pytest.mark.parametrize("state", list(AlertState))
def test_confirm_is_a_conflict_unless_pending(state: AlertState) -> None:
    if state is S.PENDING:
        assert lifecycle.confirm("a1", state) is S.ACTIVE
        return
    with pytest.raises(Conflict, match=f"alert a1 is {state.value}, not waiting"):
        lifecycle.confirm("a1", state)


@pytest.mark.parametrize("state", list(AlertState))
def test_cancel_is_a_conflict_unless_live(state: AlertState) -> None:
    if state in lifecycle.LIVE:
        assert lifecycle.cancel("a1", state) is S.CANCELLED
        return
    with pytest.raises(Conflict, match="only an active alert can be cancelled"):
        lifecycle.cancel("a1", state)


@pytest.mark.parametrize(
    ("status", "msg_type", "confirm", "expected"),
    [
        (Status.ACTUAL, MsgType.ALERT, False, S.ACTIVE),
        (Status.ACTUAL, MsgType.ALERT, True, S.PENDING),
        (Status.ACTUAL, MsgType.UPDATE, True, S.PENDING),
        (Status.EXERCISE, MsgType.UPDATE, False, S.ACTIVE),
        (Status.DRAFT, MsgType.ALERT, False, S.RECORDED),
        (Status.DRAFT, MsgType.ALERT, True, S.RECORDED),
        (Status.ACTUAL, MsgType.CANCEL, True, S.RECORDED),
        (Status.ACTUAL, MsgType.ACK, False, S.RECORDED),
        (Status.TEST, MsgType.ERROR, False, S.RECORDED),
    ],
)
def test_initial_state(
    status: Status, msg_type: MsgType, confirm: bool, expected: AlertState
) -> None:
    assert lifecycle.initial_state(status, msg_type, confirm) is expected


def test_only_an_active_alert_was_on_air() -> None:
    assert [s for s in AlertState if lifecycle.on_air(s)] == [S.ACTIVE]


def test_an_alert_is_due_at_its_expiry() -> None:
    now = datetime(2026, 7, 10, 7, 0, tzinfo=UTC)
    assert lifecycle.is_due(now, now)
    assert lifecycle.is_due(now - timedelta(seconds=1), now)
    assert not lifecycle.is_due(now + timedelta(seconds=1), now)
