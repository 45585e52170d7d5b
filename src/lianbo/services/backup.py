"""``lianbo backup``: a consistent snapshot of a running deployment (ADR 0007).

Order matters, because the server keeps writing while this runs:

1. the audit anchor log first: every anchor it holds then names a chain head
   the database snapshot (taken after) already contains, so ``audit verify``
   passes on the restore;
2. the database snapshot, with the media list read from that same snapshot;
3. the keys after the snapshot (the whole folder: private keys, ``active``,
   the signed key set, retired public halves): the key that signed the
   snapshot's manifests existed before it, so it is in the copy (only a
   retired key's private half is ever deleted, and its public half stays).
   The public keys and signed sets are also in the store, so in the
   snapshot; a deployment whose private keys come from a setting
   (``LIANBO_SIGNING_KEY_FILE``, ADR 0014) has no key folder, and its
   private keys are the operator's to keep, like the setting itself;
4. the media files: content-addressed and immutable, so copying them after
   the snapshot is still the snapshot's media.

Everything is written to a hidden sibling folder and renamed to DEST at the
end: an interrupted backup never carries DEST's name.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

from lianbo import __version__
from lianbo.adapters.blobs import LocalBlobStore, hash_file
from lianbo.config import Settings
from lianbo.domain.backup import (
    ANCHORS,
    DATABASE_FILES,
    KEYS,
    MANIFEST,
    MEDIA,
    MEDIA_LIST,
    SUMS,
    BackupManifest,
    BackupRefused,
    MediaFacts,
    StoreDump,
    format_media_list,
    format_sums,
    media_path,
)
from lianbo.domain.ports import BlobStore, Clock

Progress = Callable[[str], None]
CHUNK = 1024 * 1024


def quiet(_phase: str) -> None:
    """A progress callback that says nothing."""


async def backup(
    settings: Settings,
    store: StoreDump,
    dest: Path,
    clock: Clock,
    *,
    media: bool = True,
    progress: Progress = quiet,
    blobs: BlobStore | None = None,
) -> BackupManifest:
    """Write a complete, checksummed backup to ``dest`` (absent or an empty folder).
    Media come from ``blobs`` (default: the local media dir; S3: the bucket)."""
    _check_destination(dest)
    work = dest.parent / f".{dest.name}.partial-{uuid.uuid4().hex[:8]}"
    work.mkdir(mode=0o700, parents=True)
    try:
        source = blobs or LocalBlobStore(settings.media_dir)
        manifest = await _write(
            settings, store, work, clock, media=media, blobs=source, progress=progress
        )
        _finish(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


async def _write(
    settings: Settings,
    store: StoreDump,
    work: Path,
    clock: Clock,
    *,
    media: bool,
    blobs: BlobStore,
    progress: Progress,
) -> BackupManifest:
    sums: dict[str, str] = {}
    progress("audit anchors")
    anchors = settings.audit_anchor_path
    has_anchors = anchors.is_file()
    if has_anchors:
        sums[ANCHORS] = copy_whole_lines(anchors, work / ANCHORS)
    progress("database snapshot")
    database = DATABASE_FILES[store.kind]
    taken = clock.now()
    facts = await store.dump(work / database)
    os.chmod(work / database, 0o600)
    sums[database] = (await asyncio.to_thread(hash_file, work / database))[0]
    progress("signing keys")
    keys = 0  # public keys are in the snapshot; private ones in a setting, or:
    if not settings.signing_key_configured or (settings.keys_dir / "active").is_file():
        keys = copy_keys(settings.keys_dir, work / KEYS, sums)
    progress(f"media: {len(facts.blobs)} files referenced" + ("" if media else " (listed only)"))
    media_facts = MediaFacts(listed=len(facts.blobs), included=False)
    if media:
        media_facts = await asyncio.to_thread(copy_media, blobs, work, facts.blobs, sums)
    _write_text(work / MEDIA_LIST, format_media_list(facts.blobs), sums)
    manifest = BackupManifest(
        lianbo_version=__version__,
        store=store.kind,
        revision=facts.revision,
        created_at=taken,
        counts=facts.counts,
        media=media_facts,
        keys=keys,
        anchors=has_anchors,
    )
    progress("checksums")
    _write_text(work / MANIFEST, manifest.to_json(), sums)
    _write_bytes(work / SUMS, format_sums(sums).encode())
    return manifest


def _finish(work: Path, dest: Path) -> None:
    """Give the complete backup its name (atomic on one filesystem)."""
    if dest.exists():
        dest.rmdir()  # checked empty before the backup began
    os.replace(work, dest)


def _check_destination(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupRefused(f"{dest} already exists and is not an empty folder")
    if not dest.parent.is_dir():
        raise BackupRefused(f"{dest.parent} does not exist")


def copy_keys(source: Path, target: Path, sums: dict[str, str]) -> int:
    """Copy every file of the key folder (private keys too); return the key count."""
    if not (source / "active").is_file():
        raise BackupRefused(f"no signing keys in {source} (run lianbo init first)")
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    for path in sorted(_files(source)):
        relative = path.relative_to(source)
        (target / relative).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        sums[f"{KEYS}/{relative.as_posix()}"] = copy_file(path, target / relative)[0]
    return len(list(source.glob("*.pem")))


def copy_media(
    store: BlobStore, work: Path, blobs: Iterable[str], sums: dict[str, str]
) -> MediaFacts:
    """Copy each referenced blob, checking its bytes against its name on the way
    (read through the store: the media dir, or the bucket without the cache)."""
    total, listed, missing = 0, 0, []
    (work / MEDIA).mkdir(mode=0o700, exist_ok=True)
    for sha in sorted(blobs):
        listed += 1
        target = work / media_path(sha)
        length = store.size(sha)
        if length is None:
            missing.append(sha)
            continue
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        digest, size = write_chunks(store.read(sha, 0, length), target)
        if digest != sha:  # damaged in the store: do not spread it
            target.unlink()
            missing.append(sha)
            continue
        sums[media_path(sha)] = digest
        total += size
    return MediaFacts(listed=listed, included=True, bytes=total, missing=tuple(missing))


def copy_whole_lines(source: Path, target: Path) -> str:
    """Copy an append-only log up to its last complete line (one may be half-written)."""
    data = source.read_bytes()
    data = data[: data.rfind(b"\n") + 1]
    _write_bytes(target, data)
    return hashlib.sha256(data).hexdigest()


def copy_file(source: Path, target: Path) -> tuple[str, int]:
    """Copy ``source`` to ``target`` (mode 0600), returning the copy's sha256 and size."""
    with source.open("rb") as reader:
        return write_chunks(iter(lambda: reader.read(CHUNK), b""), target)


def write_chunks(chunks: Iterable[bytes], target: Path) -> tuple[str, int]:
    """Write ``chunks`` to a new file ``target`` (mode 0600); its sha256 and size."""
    digest, size = hashlib.sha256(), 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as writer:
        for chunk in chunks:
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def _write_text(path: Path, content: str, sums: dict[str, str]) -> None:
    data = content.encode()
    _write_bytes(path, data)
    sums[path.name] = hashlib.sha256(data).hexdigest()


def _write_bytes(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as writer:
        writer.write(data)
