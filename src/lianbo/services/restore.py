"""``lianbo restore``: check a backup completely, then load it into an empty deployment.

Nothing is written until the whole backup has been checked (every file
against ``SHA256SUMS``, every file a complete backup needs present) and the
target is known to be empty; a restore that fails half-way removes what it
wrote, so a refusal always leaves the target as it was.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from lianbo import __version__
from lianbo.adapters.blobs import LocalBlobStore, hash_file
from lianbo.adapters.db.migrate import known_revision
from lianbo.config import Settings
from lianbo.domain.backup import (
    ANCHORS,
    KEYS,
    MANIFEST,
    MEDIA_LIST,
    STORE_NAMES,
    SUMS,
    BackupFailed,
    BackupManifest,
    BackupRefused,
    StoreDump,
    StoreFacts,
    TargetNotEmpty,
    media_path,
    parse_media_list,
    parse_sums,
    required_files,
)
from lianbo.domain.ports import BlobStore
from lianbo.services.backup import Progress, quiet


def check_backup(source: Path) -> tuple[BackupManifest, list[str]]:
    """The backup's manifest and media list, or ``BackupRefused`` naming the
    first file that is missing or damaged."""
    if not source.is_dir():
        raise BackupRefused(f"{source} is not a backup folder")
    if not (source / SUMS).is_file():
        raise BackupRefused(f"{SUMS} is missing: {source} is not a complete backup")
    sums = parse_sums((source / SUMS).read_text(encoding="utf-8", errors="replace"))
    for name in (MANIFEST, MEDIA_LIST):
        if name not in sums:
            raise BackupRefused(f"{name} is missing from {SUMS}: not a complete backup")
    for name, digest in sums.items():
        path = source / name
        if not path.is_file():
            raise BackupRefused(f"{name} is missing from the backup")
        if hash_file(path)[0] != digest:
            raise BackupRefused(f"{name} is damaged (its sha256 does not match {SUMS})")
    manifest = BackupManifest.from_json(
        (source / MANIFEST).read_text(encoding="utf-8", errors="replace")
    )
    media = parse_media_list((source / MEDIA_LIST).read_text(encoding="utf-8", errors="replace"))
    for name in required_files(manifest, media):
        if name not in sums:
            raise BackupRefused(f"{name} is missing from the backup")
    active = ""
    if manifest.keys:
        active = (source / KEYS / "active").read_text(encoding="utf-8", errors="replace").strip()
    if active and f"{KEYS}/{active}.pem" not in sums:
        raise BackupRefused(
            f"{KEYS}/{active}.pem (the active signing key) is missing from the backup"
        )
    for sha in media if manifest.media.included else ():
        if media_path(sha) in sums and sums[media_path(sha)] != sha:
            raise BackupRefused(f"{media_path(sha)} is damaged (its bytes are not {sha})")
    return manifest, media


async def restore(
    settings: Settings,
    store: StoreDump,
    source: Path,
    *,
    progress: Progress = quiet,
    blobs: BlobStore | None = None,
) -> BackupManifest:
    """Check ``source``, then restore it into the empty data dir and store;
    media into ``blobs`` (default: the local media dir; S3: the bucket)."""
    await _check_empty(settings, store)
    progress("checking the backup")
    manifest, media = await asyncio.to_thread(check_backup, source)
    _check_fits(manifest, store)
    created = not settings.data_dir.exists()
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        progress("database")
        facts = await store.restore(source / manifest.database_file)
        _check_restored(manifest, facts)
        progress("signing keys")
        if manifest.keys:  # else the public keys came with the store (ADR 0014)
            _copy_tree(source / KEYS, settings.keys_dir)
        if manifest.anchors:
            progress("audit anchors")
            _copy(source / ANCHORS, settings.audit_anchor_path)
        settings.media_dir.mkdir(parents=True, exist_ok=True)
        if manifest.media.included:
            progress(f"media: {len(media) - len(manifest.media.missing)} files")
            target = blobs or LocalBlobStore(settings.media_dir)
            await asyncio.to_thread(_copy_media, source, target, media, manifest)
    except BaseException:
        await store.discard()
        _empty(settings.data_dir, remove=created)
        raise
    return manifest


def _check_fits(manifest: BackupManifest, store: StoreDump) -> None:
    if manifest.store != store.kind:
        raise BackupRefused(
            f"this is a backup of a {STORE_NAMES[manifest.store]} store; "
            f"the settings name a {STORE_NAMES[store.kind]} one"
        )
    if not known_revision(manifest.revision):
        raise BackupRefused(
            f"the backup's schema (revision {manifest.revision}, lianbo "
            f"{manifest.lianbo_version}) is newer than this lianbo {__version__} knows"
        )


async def _check_empty(settings: Settings, store: StoreDump) -> None:
    folder = settings.data_dir
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise TargetNotEmpty(f"data dir {folder} is not empty: restore only into an empty one")
    if not await store.is_empty():
        raise TargetNotEmpty("the database is not empty: restore only into an empty one")


def _check_restored(manifest: BackupManifest, facts: StoreFacts) -> None:
    """The restored store must hold what the backup says it holds."""
    for table, rows in sorted(manifest.counts.items()):
        if facts.counts.get(table) != rows:
            raise BackupFailed(
                f"restored table {table} has {facts.counts.get(table)} rows, the backup {rows}"
            )


def _copy_tree(source: Path, target: Path) -> None:
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        destination = target / path.relative_to(source)
        destination.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _copy(path, destination)


def _copy(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    os.chmod(target, 0o600)


def _copy_media(source: Path, blobs: BlobStore, media: list[str], manifest: BackupManifest) -> None:
    """Each checked media file into the store (S3: uploaded; already there: kept)."""
    missing = set(manifest.media.missing)
    for sha in media:
        if sha in missing:
            continue
        temp = blobs.temp_path()
        shutil.copyfile(source / media_path(sha), temp)
        blobs.adopt(temp, sha, temp.stat().st_size)


def _empty(folder: Path, *, remove: bool) -> None:
    """Undo a failed restore: the folder was empty (or absent) before it."""
    if remove:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for path in folder.iterdir():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
