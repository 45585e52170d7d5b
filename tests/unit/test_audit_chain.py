from dataclasses import replace
from datetime import UTC, datetime, timedelta

from lianbo.domain.audit import GENESIS_HASH, AuditEntry, seal, verify_chain


def chain(n: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    prev = GENESIS_HASH
    start = datetime(2026, 11, 22, tzinfo=UTC)
    for seq in range(1, n + 1):
        entry = seal(
            AuditEntry(
                seq=seq,
                at=start + timedelta(seconds=seq),
                actor="admin",
                action="terminal.create",
                target_type="terminal",
                target_id=f"t{seq}",
                region="510107",
                after={"name": f"屏{seq}"},
                prev_hash=prev,
            )
        )
        entries.append(entry)
        prev = entry.hash
    return entries


def test_an_untouched_chain_verifies() -> None:
    entries = chain(5)
    report = verify_chain(entries, head_seq=5, head_hash=entries[-1].hash)
    assert report.ok and report.checked == 5


def test_an_edited_entry_is_named() -> None:
    entries = chain(5)
    entries[2] = replace(entries[2], actor="mallory")
    report = verify_chain(entries, head_seq=5, head_hash=entries[-1].hash)
    assert not report.ok
    assert report.broken_seq == 3
    assert report.reason == "entry 3 was edited"


def test_an_edit_that_rehashes_the_entry_breaks_the_next_link() -> None:
    entries = chain(5)
    entries[1] = seal(replace(entries[1], after={"name": "forged"}))
    report = verify_chain(entries, head_seq=5, head_hash=entries[-1].hash)
    assert report.broken_seq == 3
    assert "does not link" in (report.reason or "")


def test_a_deleted_entry_is_named() -> None:
    entries = chain(5)
    del entries[3]
    report = verify_chain(entries, head_seq=5, head_hash=entries[-1].hash)
    assert report.broken_seq == 4
    assert report.reason == "entry 4 is missing (deleted)"


def test_deleting_the_newest_entry_is_caught_by_the_head() -> None:
    entries = chain(5)
    head = entries[-1].hash
    report = verify_chain(entries[:-1], head_seq=5, head_hash=head)
    assert report.broken_seq == 5


def test_every_field_is_covered_by_the_hash() -> None:
    entry = chain(1)[0]
    for change in (
        {"at": entry.at + timedelta(seconds=1)},
        {"action": "terminal.retire"},
        {"target_id": "other"},
        {"region": "510104"},
        {"before": {"x": 1}},
        {"address": "10.0.0.1"},
    ):
        assert seal(replace(entry, **change)).hash != entry.hash
