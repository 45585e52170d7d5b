"""The hash-chained audit log.

Each entry carries the hash of the one before it, and its own hash covers
every field plus that link. Editing an entry changes its hash; deleting one
breaks the link of the next (or, for the last one, the recorded head), so
``verify_chain`` can name the first entry that is not as it was written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from lianbo.domain.canonical import canonical_json

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One control act, as appended to the log."""

    seq: int
    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    region: str = ""
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    address: str | None = None
    prev_hash: str = GENESIS_HASH
    hash: str = field(default="")


def entry_hash(entry: AuditEntry) -> str:
    """sha256 over the entry's canonical body and its link to the previous one."""
    body = {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "region": entry.region,
        "before": entry.before,
        "after": entry.after,
        "address": entry.address,
        "prev_hash": entry.prev_hash,
    }
    return hashlib.sha256(canonical_json(body)).hexdigest()


def seal(entry: AuditEntry) -> AuditEntry:
    """Return the entry with its own hash filled in."""
    return replace(entry, hash=entry_hash(entry))


@dataclass(frozen=True, slots=True)
class ChainReport:
    """Outcome of a chain walk: ok, or the first problem and why (``broken_seq``
    names the first bad entry; a forged anchor line has none)."""

    checked: int
    broken_seq: int | None = None
    reason: str | None = None
    anchors: int = 0  # signed anchors compared (domain/audit_anchors.py)
    anchored_seq: int = 0  # the newest anchored entry

    @property
    def ok(self) -> bool:
        return self.reason is None


def verify_chain(entries: Iterable[AuditEntry], *, head_seq: int, head_hash: str) -> ChainReport:
    """Walk entries in ``seq`` order and report the first one not as written.

    ``head_seq``/``head_hash`` are the last entry as recorded at append time,
    which catches a deletion of the newest entries.
    """
    expected_seq = 1
    prev = GENESIS_HASH
    checked = 0
    for entry in entries:
        if entry.seq != expected_seq:
            return ChainReport(checked, expected_seq, f"entry {expected_seq} is missing (deleted)")
        if entry.prev_hash != prev:
            return ChainReport(
                checked, entry.seq, f"entry {entry.seq} does not link to entry {entry.seq - 1}"
            )
        if entry_hash(entry) != entry.hash:
            return ChainReport(checked, entry.seq, f"entry {entry.seq} was edited")
        prev = entry.hash
        expected_seq += 1
        checked += 1
    if checked != head_seq:
        return ChainReport(checked, checked + 1, f"entry {checked + 1} is missing (deleted)")
    if prev != head_hash:
        return ChainReport(checked, checked, f"entry {checked} was edited")
    return ChainReport(checked)


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Which audit entries a search asks for (``within``: a region subtree)."""

    actor: str | None = None
    action: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    within: str = ""
