"""The backup's own files: checksum list, media list, manifest (domain/backup.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lianbo.domain.backup import (
    BackupManifest,
    BackupRefused,
    MediaFacts,
    format_media_list,
    format_sums,
    media_path,
    parse_media_list,
    parse_sums,
    required_files,
)

SHA_A, SHA_B = "a" * 64, "b" * 64


def manifest(*, included: bool = True, missing: tuple[str, ...] = ()) -> BackupManifest:
    return BackupManifest(
        lianbo_version="0.1.0",
        store="postgresql",
        revision="0006",
        created_at=datetime(2026, 12, 7, 6, 0, tzinfo=UTC),
        counts={"audit_log": 12, "terminals": 3},
        media=MediaFacts(listed=2, included=included, bytes=10, missing=missing),
        keys=2,
        anchors=True,
    )


def test_the_checksum_file_is_sha256sum_form_and_reads_back() -> None:
    sums = {"database.pgdump": SHA_A, f"media/bb/{SHA_B}": SHA_B}
    text = format_sums(sums)
    assert text.splitlines()[0] == f"{SHA_A}  database.pgdump"
    assert parse_sums(text) == sums
    assert parse_sums(f"{SHA_A} *binary mode.bin\n") == {"binary mode.bin": SHA_A}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not a checksum line", "SHA256SUMS is damaged (line 1)"),
        (f"{SHA_A}  ../../etc/passwd", "SHA256SUMS names an unsafe path: ../../etc/passwd"),
        (f"{SHA_A}  /etc/passwd", "SHA256SUMS names an unsafe path: /etc/passwd"),
    ],
)
def test_an_odd_checksum_line_is_refused(line: str, message: str) -> None:
    with pytest.raises(BackupRefused) as refused:
        parse_sums(line + "\n")
    assert refused.value.message == message


def test_the_manifest_reads_back_as_written() -> None:
    written = manifest(missing=(SHA_B,))
    assert BackupManifest.from_json(written.to_json()) == written
    assert written.database_file == "database.pgdump"


@pytest.mark.parametrize(
    "text", ["", "[]", '{"format": 1}', '{"format": 99}', "{not json", '{"format": 1, "store": 3}']
)
def test_a_damaged_manifest_is_one_clear_refusal(text: str) -> None:
    with pytest.raises(BackupRefused, match=r"^backup.json"):
        BackupManifest.from_json(text)


def test_the_media_list_is_sorted_sha256_lines() -> None:
    assert parse_media_list(format_media_list({SHA_B, SHA_A})) == [SHA_A, SHA_B]
    with pytest.raises(BackupRefused, match=r"media.txt is damaged \(line 2"):
        parse_media_list(f"{SHA_A}\nnot-a-hash\n")


def test_a_complete_backup_needs_its_media_except_the_missing() -> None:
    needed = required_files(manifest(missing=(SHA_B,)), [SHA_A, SHA_B])
    assert media_path(SHA_A) in needed and media_path(SHA_B) not in needed
    assert {"backup.json", "database.pgdump", "media.txt", "keys/active"} <= set(needed)
    assert "audit-anchors.jsonl" in needed
    listed_only = required_files(manifest(included=False), [SHA_A])
    assert not [n for n in listed_only if n.startswith("media/")]
