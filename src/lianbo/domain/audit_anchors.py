"""Anchors: the audit chain's head, signed and kept outside the database.

The chain (``domain/audit.py``) catches an edit or a gap, but its head lives
in the same database: whoever can delete the newest rows can also rewind the
head, and the shortened chain still verifies. So every so often the head
(seq, hash, time) is signed with the control centre's key and appended to an
anchor log outside the database. An anchored entry cannot go unnoticed: the
chain must still reach the anchored ``seq`` and have the anchored hash there.
Entries after the newest anchor are normal (they are not anchored yet).

This module is pure: what an anchor is, when one is due, and how a chain
compares with the anchors. Signing and checking a signature are passed in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from lianbo.domain.audit import ChainReport
from lianbo.domain.canonical import canonical_json

ANCHOR_TYPE = "lianbo.audit.anchor"
_HASH = re.compile(r"[0-9a-f]{64}")
_KEY_ID = re.compile(r"[0-9a-f]{16}")

# (key_id, signed bytes, signature) -> whether a control-centre key made it.
SignatureCheck = Callable[[str, bytes, str], bool]


@dataclass(frozen=True, slots=True)
class Anchor:
    """The chain's head at one moment, signed by key ``key_id``."""

    seq: int
    hash: str
    at: datetime
    key_id: str
    signature: str = ""

    def signed_bytes(self) -> bytes:
        """What the signature covers: canonical JSON of every field but itself."""
        return canonical_json(_body(self))

    def to_json(self) -> dict[str, Any]:
        """One line of the anchor log (and a webhook's body)."""
        return {**_body(self), "signature": self.signature}


def _body(anchor: Anchor) -> dict[str, Any]:
    return {
        "type": ANCHOR_TYPE,
        "seq": anchor.seq,
        "hash": anchor.hash,
        "at": anchor.at.isoformat(),
        "key_id": anchor.key_id,
    }


def parse_anchor(line: str) -> Anchor:
    """An anchor from one log line; ``ValueError`` when it is not one."""
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(data, dict) or data.get("type") != ANCHOR_TYPE:
        raise ValueError("not an audit anchor")
    seq, digest, at = data.get("seq"), data.get("hash"), data.get("at")
    key_id, signature = data.get("key_id"), data.get("signature")
    if type(seq) is not int or seq < 1:
        raise ValueError("bad seq")
    if not isinstance(digest, str) or not _HASH.fullmatch(digest):
        raise ValueError("bad hash")
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        raise ValueError("bad key id")
    if not isinstance(signature, str) or not isinstance(at, str):
        raise ValueError("bad signature or time")
    moment = datetime.fromisoformat(at)
    if moment.tzinfo is None:
        raise ValueError("time without offset")
    return Anchor(seq, digest, moment, key_id, signature)


@dataclass(frozen=True, slots=True)
class AnchorLine:
    """One line of the log as read back: its number and the anchor, if any."""

    number: int
    anchor: Anchor | None  # None: the line is not a readable anchor


def read_lines(lines: Iterable[str]) -> list[AnchorLine]:
    """Parse a log's lines (1-based numbers; blank lines are skipped)."""
    found: list[AnchorLine] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            found.append(AnchorLine(number, parse_anchor(line)))
        except ValueError:
            found.append(AnchorLine(number, None))
    return found


def anchor_due(
    last: Anchor | None, head_seq: int, now: datetime, *, every: int, interval: timedelta
) -> bool:
    """Whether the head at ``head_seq`` should be anchored now.

    Only a head that grew since the last anchor is anchored (an idle chain
    adds no lines): at once when nothing is anchored yet, otherwise after
    ``every`` new entries or ``interval`` since the last anchor.
    """
    if last is None:
        return head_seq > 0
    if head_seq <= last.seq:
        return False  # nothing new, or the chain is behind its anchor (verify says so)
    return head_seq - last.seq >= every or now - last.at >= interval


@dataclass(frozen=True, slots=True)
class AnchorReport:
    """How the chain compares with its anchors: ok, or the first problem."""

    anchors: int  # readable, correctly signed anchors compared with the chain
    anchored_seq: int  # the newest anchored seq (0: nothing anchored)
    broken_seq: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def check_anchors(
    lines: Iterable[AnchorLine], hashes: Mapping[int, str], chain_end: int, signed: SignatureCheck
) -> AnchorReport:
    """Compare a chain that verified on its own (entries 1..``chain_end``,
    ``hashes`` holding the hash at every anchored seq) with the anchor log.

    The first problem by sequence number wins: an anchored entry whose hash
    changed (the chain was rewound and rewritten: the first changed entry lies
    after the last anchor that still agrees), then anchored entries the
    chain no longer reaches (truncated, head rewound). A line that is not a
    readable anchor, or whose signature no control-centre key made, is
    reported when the chain itself agrees with every genuine anchor.
    """
    genuine: list[Anchor] = []
    bad_line: str | None = None
    for line in lines:
        anchor = line.anchor
        if anchor is not None and signed(anchor.key_id, anchor.signed_bytes(), anchor.signature):
            genuine.append(anchor)
        elif bad_line is None:
            what = "is not a readable anchor" if anchor is None else _FORGED
            bad_line = f"anchor line {line.number} {what}"
    genuine.sort(key=lambda a: a.seq)
    newest = genuine[-1].seq if genuine else 0
    matched = 0  # the highest anchored seq the chain still has as anchored
    for anchor in genuine:
        if anchor.seq > chain_end:
            missing = _missing(chain_end, genuine[-1])
            return AnchorReport(len(genuine), newest, chain_end + 1, missing)
        if hashes.get(anchor.seq) != anchor.hash:
            return AnchorReport(len(genuine), newest, matched + 1, _rewritten(matched, anchor))
        matched = anchor.seq
    return AnchorReport(len(genuine), newest, None, bad_line)


_FORGED = "is not signed by a control-centre key (forged or altered)"


def _missing(chain_end: int, anchor: Anchor) -> str:
    span = _span(chain_end + 1, anchor.seq)
    ends = f"ends at {chain_end}" if chain_end else "is empty"
    return (
        f"{span} missing: the anchor of {_when(anchor)} signed seq {anchor.seq} "
        f"but the chain {ends}"
    )


def _rewritten(matched: int, anchor: Anchor) -> str:
    first = matched + 1
    span = (
        f"entry {first} differs" if first == anchor.seq else f"entries {first}-{anchor.seq} differ"
    )
    return (
        f"{span} from the anchored chain: the anchor of {_when(anchor)} signed "
        f"seq {anchor.seq} with another hash"
    )


def _span(first: int, last: int) -> str:
    return f"entry {first} is" if first == last else f"entries {first}-{last} are"


def _when(anchor: Anchor) -> str:
    return anchor.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def with_anchors(chain: ChainReport, anchors: AnchorReport) -> ChainReport:
    """The chain walk's report completed by the anchor comparison; a broken
    chain is reported as such (its first bad entry comes first)."""
    if not chain.ok:
        return replace(chain, anchors=anchors.anchors, anchored_seq=anchors.anchored_seq)
    return ChainReport(
        chain.checked, anchors.broken_seq, anchors.reason, anchors.anchors, anchors.anchored_seq
    )
