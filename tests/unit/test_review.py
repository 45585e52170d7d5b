from datetime import UTC, datetime

import pytest

from lianbo.domain.errors import Conflict, Forbidden, InvalidInput
from lianbo.domain.review import Decision, ReviewState, ReviewStep, review, revoke, submit

AT = datetime(2026, 11, 22, tzinfo=UTC)


def walk(*reviewers: str) -> tuple[ReviewState, list[ReviewStep]]:
    step = submit(ReviewState.DRAFT, 0, "owner", "owner", AT)
    history = [step]
    for reviewer in reviewers:
        step = review(step.to_state, history, 1, Decision.APPROVE, reviewer, reviewer, AT)
        history.append(step)
    return step.to_state, history


def test_three_different_reviewers_approve() -> None:
    state, history = walk("a", "b", "c")
    assert state is ReviewState.APPROVED
    assert [s.to_state for s in history] == [
        ReviewState.SUBMITTED,
        ReviewState.LEVEL1,
        ReviewState.LEVEL2,
        ReviewState.APPROVED,
    ]
    assert [s.level for s in history[1:]] == [1, 2, 3]


def test_a_reviewer_cannot_pass_two_levels() -> None:
    state, history = walk("a")
    with pytest.raises(Forbidden, match="level 1"):
        review(state, history, 1, Decision.APPROVE, "a", "a", AT)
    state, history = walk("a", "b")
    with pytest.raises(Forbidden):
        review(state, history, 1, Decision.APPROVE, "a", "a", AT)


def test_rejection_needs_a_reason_and_ends_the_round() -> None:
    state, history = walk("a")
    with pytest.raises(InvalidInput):
        review(state, history, 1, Decision.REJECT, "b", "b", AT, reason="  ")
    rejected = review(state, history, 1, Decision.REJECT, "b", "b", AT, reason="画面含违规字幕")
    assert rejected.to_state is ReviewState.REJECTED and rejected.level == 2
    again = submit(rejected.to_state, 1, "owner", "owner", AT)
    assert again.round == 2
    # A new round: reviewer "a" may pass level 1 again.
    step = review(again.to_state, [*history, rejected, again], 2, Decision.APPROVE, "a", "a", AT)
    assert step.to_state is ReviewState.LEVEL1


def test_only_waiting_assets_are_reviewed_and_only_approved_revoked() -> None:
    with pytest.raises(Conflict):
        review(ReviewState.DRAFT, [], 0, Decision.APPROVE, "a", "a", AT)
    with pytest.raises(Conflict):
        submit(ReviewState.LEVEL1, 1, "o", "o", AT)
    with pytest.raises(Conflict):
        revoke(ReviewState.LEVEL2, 1, "a", "a", AT, "x")
    state, _ = walk("a", "b", "c")
    step = revoke(state, 1, "d", "d", AT, "发现侵权")
    assert step.to_state is ReviewState.REVOKED
    with pytest.raises(Conflict):
        review(ReviewState.APPROVED, [], 1, Decision.APPROVE, "x", "x", AT)
