"""Three-level review (三审) as a pure state machine.

    draft → submitted → level1 → level2 → approved
                 ↘ rejected (at any level, with a reason) → submitted again
    approved → revoked (takes it off air everywhere)

``level1`` means 初审 passed, ``level2`` 复审 passed, ``approved`` 终审
passed. Within one round a reviewer never passes the same asset at two
levels; a rejection ends the round, and resubmission starts a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from lianbo.domain.errors import Conflict, Forbidden, InvalidInput

REASON_MAX = 500


class ReviewState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    LEVEL1 = "level1"
    LEVEL2 = "level2"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVOKED = "revoked"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


# Which review level a state is waiting for, and where approval leads.
LEVEL_OF: dict[ReviewState, int] = {
    ReviewState.SUBMITTED: 1,
    ReviewState.LEVEL1: 2,
    ReviewState.LEVEL2: 3,
}
_NEXT: dict[ReviewState, ReviewState] = {
    ReviewState.SUBMITTED: ReviewState.LEVEL1,
    ReviewState.LEVEL1: ReviewState.LEVEL2,
    ReviewState.LEVEL2: ReviewState.APPROVED,
}


@dataclass(frozen=True, slots=True)
class ReviewStep:
    """One recorded transition."""

    round: int
    action: str  # "submit" | "approve" | "reject" | "revoke"
    level: int | None  # review level acted on (1..3) for approve/reject
    actor_id: str
    actor: str
    from_state: ReviewState
    to_state: ReviewState
    at: datetime
    reason: str | None = None


def submit(state: ReviewState, round_: int, actor_id: str, actor: str, at: datetime) -> ReviewStep:
    """Send a draft (or a rejected asset, for a new round) to review."""
    if state not in (ReviewState.DRAFT, ReviewState.REJECTED):
        raise Conflict(f"an asset in state {state.value} cannot be submitted")
    return ReviewStep(round_ + 1, "submit", None, actor_id, actor, state, ReviewState.SUBMITTED, at)


def review(
    state: ReviewState,
    history: list[ReviewStep],
    round_: int,
    decision: Decision,
    actor_id: str,
    actor: str,
    at: datetime,
    reason: str | None = None,
) -> ReviewStep:
    """Pass or fail the level the asset waits at."""
    level = LEVEL_OF.get(state)
    if level is None:
        raise Conflict(f"an asset in state {state.value} is not waiting for review")
    passed_before = sorted(
        step.level or 0
        for step in history
        if step.round == round_ and step.action == "approve" and step.actor_id == actor_id
    )
    if decision is Decision.APPROVE and passed_before:
        raise Forbidden(
            f"you already passed level {passed_before[0]} of this asset; "
            "another reviewer must pass this level"
        )
    if decision is Decision.REJECT:
        return ReviewStep(
            round_,
            "reject",
            level,
            actor_id,
            actor,
            state,
            ReviewState.REJECTED,
            at,
            _reason(reason, required=True),
        )
    return ReviewStep(
        round_, "approve", level, actor_id, actor, state, _NEXT[state], at, _reason(reason)
    )


def revoke(
    state: ReviewState, round_: int, actor_id: str, actor: str, at: datetime, reason: str | None
) -> ReviewStep:
    """Take an approved asset off air everywhere."""
    if state is not ReviewState.APPROVED:
        raise Conflict(f"only approved assets can be revoked (this one is {state.value})")
    return ReviewStep(
        round_,
        "revoke",
        None,
        actor_id,
        actor,
        state,
        ReviewState.REVOKED,
        at,
        _reason(reason, required=True),
    )


def _reason(reason: str | None, *, required: bool = False) -> str | None:
    cleaned = (reason or "").strip()
    if required and not cleaned:
        raise InvalidInput("a reason is required", field="reason")
    if len(cleaned) > REASON_MAX:
        raise InvalidInput(f"reason is longer than {REASON_MAX} characters", field="reason")
    return cleaned or None
