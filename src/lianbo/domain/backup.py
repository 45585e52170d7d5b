"""What a backup is: its files, its manifest, its checksum list (pure).

A backup is a directory (docs/operations.md, ADR 0007)::

    backup.json           this manifest: versions, store kind, time, counts
    SHA256SUMS            sha256 of every other file (``sha256sum -c`` reads it)
    database.sqlite3      SQLite's online-backup copy, or
    database.pgdump       pg_dump's custom format
    keys/                 the signing keys, private halves included (secret);
                          absent when they come from a setting (ADR 0014)
    audit-anchors.jsonl   the audit anchor log, when the data dir has one
    media.txt             every sha256 the store references, one a line
    media/ab/<sha256>     the referenced files themselves (unless --no-media)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from lianbo.domain.errors import Conflict, DomainError, InvalidInput

FORMAT = 1
MANIFEST = "backup.json"
SUMS = "SHA256SUMS"
MEDIA_LIST = "media.txt"
ANCHORS = "audit-anchors.jsonl"
KEYS = "keys"
MEDIA = "media"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
STORE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SUM_LINE = re.compile(r"([0-9a-f]{64}) [ *](\S.*)")


class BackupRefused(InvalidInput):
    """The backup is damaged, incomplete, or not for this deployment."""

    code = "backup_refused"


class BackupFailed(DomainError):
    """A tool or a file the backup needs failed (pg_dump, a full disk)."""

    code = "backup_failed"


class TargetNotEmpty(Conflict):
    """A restore goes only into an empty data dir and an empty database."""

    code = "target_not_empty"


@dataclass(frozen=True, slots=True)
class StoreFacts:
    """What a database snapshot holds, read from the snapshot itself."""

    revision: str
    counts: dict[str, int]
    blobs: frozenset[str]  # every sha256 a row references


@dataclass(frozen=True, slots=True)
class MediaFacts:
    """The media part of a backup: how many files, copied or only listed."""

    listed: int  # sha256 values the store references
    included: bool  # the files were copied (not --no-media)
    bytes: int = 0
    missing: tuple[str, ...] = ()  # referenced, but absent or damaged in the media dir


@dataclass(frozen=True, slots=True)
class BackupManifest:
    """``backup.json``: what was backed up, from what, and when."""

    lianbo_version: str
    store: str  # "sqlite" | "postgresql"
    revision: str  # Alembic revision of the schema
    created_at: datetime
    counts: dict[str, int]
    media: MediaFacts
    keys: int
    anchors: bool
    format: int = FORMAT

    @property
    def database_file(self) -> str:
        return DATABASE_FILES[self.store]

    def to_json(self) -> str:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["media"]["missing"] = list(self.media.missing)
        return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> BackupManifest:
        """Parse ``backup.json``; anything unexpected is a damaged backup."""
        try:
            data: dict[str, Any] = json.loads(text)
            if data.get("format") != FORMAT:
                raise BackupRefused(f"{MANIFEST}: unknown backup format {data.get('format')!r}")
            media = data["media"]
            store = str(data["store"])
            if store not in DATABASE_FILES:
                raise BackupRefused(f"{MANIFEST}: unknown store {store!r}")
            return cls(
                lianbo_version=str(data["lianbo_version"]),
                store=store,
                revision=str(data["revision"]),
                created_at=datetime.fromisoformat(data["created_at"]),
                counts={str(k): int(v) for k, v in data["counts"].items()},
                media=MediaFacts(
                    listed=int(media["listed"]),
                    included=bool(media["included"]),
                    bytes=int(media["bytes"]),
                    missing=tuple(str(s) for s in media["missing"]),
                ),
                keys=int(data["keys"]),
                anchors=bool(data["anchors"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise BackupRefused(f"{MANIFEST} is damaged ({type(error).__name__})") from None


class StoreDump(Protocol):
    """Port: a store-specific consistent dump and its restore."""

    kind: str  # a key of DATABASE_FILES

    async def dump(self, target: Path) -> StoreFacts:
        """Write a consistent snapshot to ``target``; the facts are of that snapshot."""

    async def is_empty(self) -> bool:
        """True when the store holds no tables (a restore may go there)."""

    async def restore(self, source: Path) -> StoreFacts:
        """Load a dump into the (empty) store; the facts are of the result."""

    async def discard(self) -> None:
        """Undo a restore that failed half-way (best effort)."""


def media_path(sha256: str) -> str:
    """Where a blob lives, relative to the backup (and to the media dir)."""
    return f"{MEDIA}/{sha256[:2]}/{sha256}"


def is_sha256(value: str) -> bool:
    return _SHA256.fullmatch(value) is not None


def format_media_list(blobs: Iterable[str]) -> str:
    return "".join(f"{sha}\n" for sha in sorted(blobs))


def parse_media_list(text: str) -> list[str]:
    """``media.txt``: one sha256 a line."""
    found = [line.strip() for line in text.splitlines() if line.strip()]
    for number, sha in enumerate(found, 1):
        if not is_sha256(sha):
            raise BackupRefused(f"{MEDIA_LIST} is damaged (line {number} is not a sha256)")
    return found


def format_sums(sums: Mapping[str, str]) -> str:
    """The checksum file in ``sha256sum`` form, so coreutils can check it too."""
    return "".join(f"{digest}  {path}\n" for path, digest in sorted(sums.items()))


def parse_sums(text: str) -> dict[str, str]:
    """path → sha256 from a ``sha256sum`` file; refuse odd lines and paths."""
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        match = _SUM_LINE.fullmatch(line)
        if match is None:
            raise BackupRefused(f"{SUMS} is damaged (line {number})")
        digest, path = match.groups()
        if path.startswith("/") or ".." in Path(path).parts or path == SUMS:
            raise BackupRefused(f"{SUMS} names an unsafe path: {path}")
        sums[path] = digest
    return sums


def required_files(manifest: BackupManifest, media: Iterable[str]) -> list[str]:
    """Files a complete backup must have beside the checksum file."""
    needed = [MANIFEST, manifest.database_file, MEDIA_LIST]
    if manifest.keys:  # none: private keys come from a setting (ADR 0014)
        needed.append(f"{KEYS}/active")
    if manifest.anchors:
        needed.append(ANCHORS)
    if manifest.media.included:
        missing = set(manifest.media.missing)
        needed += [media_path(sha) for sha in media if sha not in missing]
    return needed
