"""The pure side of audit anchoring: when an anchor is due, and how a chain
compares with the anchors (signatures are checked by a stand-in here)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from lianbo.domain.audit import ChainReport
from lianbo.domain.audit_anchors import (
    Anchor,
    AnchorLine,
    anchor_due,
    check_anchors,
    parse_anchor,
    read_lines,
    with_anchors,
)

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
KEY = "0123456789abcdef"
EVERY, INTERVAL = 100, timedelta(minutes=5)


def h(seq: int, variant: str = "a") -> str:
    return f"{variant}{seq:063x}"


def signed(seq: int, at: datetime = T0, variant: str = "a") -> Anchor:
    return Anchor(seq, h(seq, variant), at, KEY, signature="good")


def genuine(key_id: str, data: bytes, signature: str) -> bool:
    """Stand-in for Ed25519: only the signature "good" by KEY is genuine."""
    return key_id == KEY and signature == "good"


def lines(*anchors: Anchor | None) -> list[AnchorLine]:
    return [AnchorLine(number, anchor) for number, anchor in enumerate(anchors, start=1)]


def chain(end: int, variant: str = "a") -> dict[int, str]:
    return {seq: h(seq, variant) for seq in range(1, end + 1)}


@pytest.mark.parametrize(
    ("last", "head", "later", "due"),
    [
        (None, 0, 0, False),  # nothing to anchor
        (None, 1, 0, True),  # the first entry is anchored at once
        (signed(100), 199, 1, False),
        (signed(100), 200, 1, True),  # N entries since the last anchor
        (signed(100), 101, 4, False),
        (signed(100), 101, 5, True),  # T minutes since the last anchor
        (signed(100), 100, 60, False),  # an idle chain adds no lines
        (signed(100), 90, 60, False),  # behind the anchor: never sign a rewound head
    ],
)
def test_an_anchor_is_due_after_n_entries_or_t_minutes(
    last: Anchor | None, head: int, later: int, due: bool
) -> None:
    now = T0 + timedelta(minutes=later)
    assert anchor_due(last, head, now, every=EVERY, interval=INTERVAL) is due


def test_an_anchor_line_round_trips_and_its_signature_covers_every_field() -> None:
    anchor = signed(157)
    line = json.dumps(anchor.to_json())
    assert parse_anchor(line) == anchor
    body = json.loads(anchor.signed_bytes())
    assert body == {
        "type": "lianbo.audit.anchor",
        "seq": 157,
        "hash": h(157),
        "at": "2026-12-07T10:00:00+00:00",
        "key_id": KEY,
    }
    assert replace(anchor, seq=156).signed_bytes() != anchor.signed_bytes()


@pytest.mark.parametrize(
    "line",
    [
        "{",
        "[1]",
        '{"type": "other"}',
        '{"type": "lianbo.audit.anchor", "seq": "1"}',
        json.dumps(signed(1).to_json() | {"key_id": "../../etc/passwd"}),
        json.dumps(signed(1).to_json() | {"at": "2026-12-07T10:00:00"}),
        json.dumps(signed(1).to_json() | {"seq": True}),
        "[" * 100_000,
    ],
    ids=["torn", "array", "other", "seq-text", "key-path", "naive-time", "seq-bool", "deep"],
)
def test_a_line_that_is_not_an_anchor_is_refused(line: str) -> None:
    with pytest.raises(ValueError):
        parse_anchor(line)


def test_read_lines_numbers_lines_and_keeps_unreadable_ones() -> None:
    text = [json.dumps(signed(5).to_json()), "", "garbage", json.dumps(signed(9).to_json())]
    assert read_lines(text) == [
        AnchorLine(1, signed(5)),
        AnchorLine(3, None),
        AnchorLine(4, signed(9)),
    ]


def test_a_healthy_chain_agrees_with_its_anchors() -> None:
    report = check_anchors(lines(signed(50), signed(100)), chain(100), 100, genuine)
    assert report.ok and report.anchors == 2 and report.anchored_seq == 100


def test_entries_after_the_last_anchor_are_normal() -> None:
    report = check_anchors(lines(signed(50), signed(100)), chain(130), 130, genuine)
    assert report.ok and report.anchored_seq == 100


def test_no_anchors_yet_passes() -> None:
    assert check_anchors([], chain(3), 3, genuine).ok


def test_a_truncated_and_rewound_chain_names_the_missing_range() -> None:
    at = T0 + timedelta(hours=1)
    report = check_anchors(lines(signed(100), signed(157, at)), chain(119), 119, genuine)
    assert not report.ok and report.broken_seq == 120
    assert report.reason == (
        "entries 120-157 are missing: the anchor of 2026-12-07 11:00:00 UTC signed seq 157 "
        "but the chain ends at 119"
    )


def test_an_emptied_chain_is_missing_everything_anchored() -> None:
    report = check_anchors(lines(signed(1), signed(3)), {}, 0, genuine)
    assert report.broken_seq == 1
    assert report.reason is not None and report.reason.startswith("entries 1-3 are missing")
    assert report.reason.endswith("but the chain is empty")


def test_a_rewound_and_rewritten_chain_names_the_range_after_the_last_good_anchor() -> None:
    rewritten = chain(100) | {seq: h(seq, "b") for seq in range(120, 201)}
    report = check_anchors(lines(signed(100), signed(157), signed(200)), rewritten, 200, genuine)
    assert report.broken_seq == 101
    assert report.reason is not None
    assert report.reason.startswith("entries 101-157 differ from the anchored chain: the anchor of")


def test_a_forged_line_is_reported_and_ignored_as_evidence() -> None:
    forged = replace(signed(999), signature="bad")
    report = check_anchors(lines(signed(10), forged), chain(20), 20, genuine)
    assert not report.ok and report.broken_seq is None
    assert report.reason == (
        "anchor line 2 is not signed by a control-centre key (forged or altered)"
    )
    assert report.anchors == 1 and report.anchored_seq == 10


def test_an_unknown_key_or_unreadable_line_is_reported() -> None:
    stranger = replace(signed(5), key_id="fedcba9876543210")
    assert check_anchors(lines(stranger), chain(5), 5, genuine).reason == (
        "anchor line 1 is not signed by a control-centre key (forged or altered)"
    )
    assert check_anchors(lines(signed(5), None), chain(5), 5, genuine).reason == (
        "anchor line 2 is not a readable anchor"
    )


def test_a_missing_range_comes_before_a_forged_line() -> None:
    report = check_anchors(lines(None, signed(30)), chain(20), 20, genuine)
    assert report.broken_seq == 21 and "missing" in (report.reason or "")


def test_a_broken_chain_is_reported_before_the_anchors() -> None:
    broken = ChainReport(3, 4, "entry 4 was edited")
    anchors = check_anchors(lines(signed(30)), chain(3), 3, genuine)
    combined = with_anchors(broken, anchors)
    assert combined.reason == "entry 4 was edited" and combined.anchored_seq == 30
    fine = with_anchors(ChainReport(3), anchors)
    assert fine.broken_seq == 4 and not fine.ok and fine.checked == 3


def test_the_console_says_every_anchor_finding_in_chinese() -> None:
    from lianbo.web.domain_messages import in_chinese

    at = T0 + timedelta(hours=1)
    findings = [
        check_anchors(lines(signed(157, at)), chain(119), 119, genuine),
        check_anchors(lines(signed(3)), {}, 0, genuine),
        check_anchors(lines(signed(5, variant="b")), chain(9), 9, genuine),
        check_anchors(lines(signed(4), signed(5, variant="b")), chain(9), 9, genuine),
        check_anchors(lines(replace(signed(5), signature="bad")), chain(9), 9, genuine),
        check_anchors(lines(None), chain(9), 9, genuine),
    ]
    said = [in_chinese(report.reason or "") for report in findings]
    assert (
        said[0]
        == "记录 120-157 缺失：2026-12-07 11:00:00 UTC 的锚点签署了记录 #157，但哈希链只到 #119"
    )
    assert said[1].endswith("但哈希链为空")
    assert said[2].startswith("记录 1-5 与锚定的哈希链不符")
    assert findings[3].reason is not None
    assert findings[3].reason.startswith("entry 5 differs from the anchored chain")
    assert said[3].startswith("记录 5 与锚定的哈希链不符")
    assert said[4] == "锚点日志第 1 行不是播控中心密钥签署的（伪造或被改动）"
    assert said[5] == "锚点日志第 1 行无法读取"
