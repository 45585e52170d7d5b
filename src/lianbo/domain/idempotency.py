"""Idempotency keys: a control act done once, however often it is sent (ADR 0015).

A client that got no answer (a 502 from the edge when the process died, a
timeout) cannot know whether its act was kept. It sends the act again with
the same ``Idempotency-Key`` (IETF httpapi draft; as Stripe and GitHub use
it) and gets the first outcome back instead of a second act. A key belongs
to one user, remembers a fingerprint of the request it came with, and is
kept for a while (``LIANBO_IDEMPOTENCY_KEY_HOURS``).

Pure: parsing the header, fingerprinting a request, deciding what a stored
key means for a new request. The store and the use cases are elsewhere
(``services/idempotency.py``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from lianbo.domain.errors import Conflict, InvalidInput, Unprocessable

HEADER = "Idempotency-Key"
REPLAYED = "Idempotency-Replayed"  # "true" on an answer that repeats a kept outcome
MAX_LENGTH = 255


class KeyReused(Unprocessable):
    """The key was used with another request (another body or another act): 422."""

    code = "idempotency_key_reused"


class KeyInProgress(Conflict):
    """A request with this key is still running elsewhere: 409, retry later."""

    code = "idempotency_key_in_progress"


def in_progress() -> KeyInProgress:
    """The 409 for a key whose first request has not finished."""
    return KeyInProgress(
        f"a request with this {HEADER} is still in progress; retry later", field=HEADER
    )


def parse_key(raw: str) -> str:
    """The key in an ``Idempotency-Key`` header: 1–255 visible ASCII characters.

    The draft writes the key as a structured-field string (``"abc"``);
    clients following Stripe send it bare. Both are taken: the quotes of a
    quoted key are not part of it.
    """
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not 1 <= len(key) <= MAX_LENGTH:
        raise InvalidInput(
            f"{HEADER} must be 1-{MAX_LENGTH} visible ASCII characters", field=HEADER
        )
    if not all("!" <= char <= "~" for char in key):
        raise InvalidInput(
            f"{HEADER} must be 1-{MAX_LENGTH} visible ASCII characters", field=HEADER
        )
    return key


def fingerprint(act: str, payload: bytes) -> str:
    """What a request asked for, as a digest: the act's name and its body
    (in a canonical form the act chooses, so the same request spelt with
    other whitespace or key order is the same request)."""
    return hashlib.sha256(act.encode("ascii") + b"\0" + payload).hexdigest()


@dataclass(frozen=True, slots=True)
class Claim:
    """A request's hold on its key: who sent it, the key, what it asked for."""

    user_id: str
    key: str
    act: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the act answered the first time: its HTTP status and the id of
    what it made (an alert id); a replay answers with the same."""

    status: int
    resource_id: str


@dataclass(frozen=True, slots=True)
class KeptKey:
    """A key as stored, with the outcome of the request that first used it."""

    claim: Claim
    outcome: Outcome
    created_at: datetime
    expires_at: datetime


def replay(kept: KeptKey | None, claim: Claim, now: datetime) -> Outcome | None:
    """The outcome to answer ``claim`` with, or None when the act must run
    (no key kept, or only an expired one). The key used with another
    request is refused: answering it with the first request's outcome would
    tell the client a different act was done."""
    if kept is None or kept.expires_at <= now:
        return None
    if kept.claim.act != claim.act or kept.claim.fingerprint != claim.fingerprint:
        raise KeyReused(f"{HEADER} was already used with a different request", field=HEADER)
    return kept.outcome
