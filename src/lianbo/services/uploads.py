"""Resumable uploads (tus 1.0 core + creation): a broken upload continues
from the last byte the server has."""

from __future__ import annotations

import asyncio
import base64
import binascii
import fcntl
import os
import uuid
from collections.abc import AsyncIterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from lianbo.adapters.db.repos.uploads import UploadRecord
from lianbo.domain.assets import clean_name
from lianbo.domain.errors import Conflict, InvalidInput, NotFound, TooLarge
from lianbo.domain.users import Actor
from lianbo.services.assets import Added, require_content_manager
from lianbo.services.context import Context
from lianbo.services.ingest import ingest_blob


@dataclass(frozen=True, slots=True)
class UploadState:
    id: str
    length: int
    offset: int
    asset_id: str | None


def parse_metadata(header: str | None) -> dict[str, str]:
    """``Upload-Metadata: key base64value, key2 base64value2``."""
    found: dict[str, str] = {}
    for pair in (header or "").split(","):
        if not pair.strip():
            continue
        key, _, value = pair.strip().partition(" ")
        try:
            found[key] = base64.b64decode(value, validate=True).decode("utf-8") if value else ""
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidInput(
                f"Upload-Metadata {key!r} is not base64 UTF-8", field="Upload-Metadata"
            ) from None
    return found


def parse_count(raw: str | None, name: str) -> int:
    """A tus byte count header: ASCII digits only (``str.isdigit`` also takes
    ``²`` and ``١``, which ``int`` then refuses), at most 18 of them."""
    if raw is None or not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise InvalidInput(f"{name} must be a non-negative integer", field=name)
    return int(raw)


def part_path(container: Context, upload_id: str) -> Path:
    folder = container.settings.media_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{upload_id}.part"


async def create(container: Context, actor: Actor, length: int, metadata: dict[str, str]) -> str:
    require_content_manager(actor)
    limit = container.settings.max_upload_bytes
    if length > limit:
        raise TooLarge(f"file is larger than the limit of {limit} bytes", field="Upload-Length")
    if length <= 0:
        raise InvalidInput("Upload-Length must be positive", field="Upload-Length")
    name = clean_name(metadata.get("name") or metadata.get("filename") or "upload")
    upload_id = uuid.uuid4().hex
    now = container.clock.now()
    # No part file yet: the first PATCH makes it on the process that takes
    # the upload's PATCHes (HAProxy hashes them on the id), maybe not this one.
    async with container.uow() as uow:
        await uow.uploads.add(
            id=upload_id,
            owner_id=actor.user_id,
            region_code=actor.jurisdiction,
            name=name,
            length=length,
            offset=0,
            created_at=now,
            expires_at=now + timedelta(hours=container.settings.upload_expiry_hours),
        )
        await uow.commit()
    return upload_id


async def _row(container: Context, actor: Actor, upload_id: str) -> UploadRecord:
    async with container.uow() as uow:
        row = await uow.uploads.get(upload_id)
    if row is None or row.owner_id != actor.user_id:
        raise NotFound("upload not found")
    return row


async def state(container: Context, actor: Actor, upload_id: str) -> UploadState:
    row = await _row(container, actor, upload_id)
    return UploadState(row.id, row.length, row.offset, row.asset_id)


async def append(
    container: Context,
    actor: Actor,
    upload_id: str,
    offset: int,
    chunks: AsyncIterable[bytes],
) -> tuple[UploadState, Added | None]:
    """Append bytes at ``offset``; when the last byte arrives, ingest the file.

    One writer per upload at a time, in any process on this data dir: the
    part file is locked for the whole PATCH; a second PATCH meanwhile is a
    conflict (409), never a second writer over the same bytes.

    The part file is on this process's disk (``media_dir``). Processes on
    different hosts need every PATCH of an upload on one process (the
    shipped HAProxy config hashes on the upload id); when the bytes sent so
    far are not here (that process died), the upload starts again at 0
    rather than continue over a hole.
    """
    row = await _row(container, actor, upload_id)  # 404 before touching the file
    if row.asset_id is not None:
        raise Conflict(f"Upload-Offset must be {row.offset}", field="Upload-Offset")
    path = part_path(container, upload_id)
    with _sole_writer(path) as handle:
        # Read under the lock: the offset the previous writer left.
        try:
            row = await _row(container, actor, upload_id)
        except NotFound:  # cancelled meanwhile: drop the file just made
            path.unlink(missing_ok=True)
            raise
        if row.asset_id is not None:  # ingested meanwhile: likewise
            path.unlink(missing_ok=True)
        if row.asset_id is not None or offset != row.offset:
            raise Conflict(f"Upload-Offset must be {row.offset}", field="Upload-Offset")
        if os.fstat(handle.fileno()).st_size < row.offset:
            await _start_again(container, upload_id)
        written = await _write(container, handle, row, chunks)
        if written < row.length:
            return UploadState(upload_id, row.length, written, None), None
        # Still locked: a PATCH racing the last one cannot ingest twice.
        blob = await asyncio.to_thread(container.blobs.adopt, path)
        added = await ingest_blob(container, actor, blob, row.name)
        async with container.uow() as uow:
            await uow.uploads.set_offset(upload_id, written, added.asset.id)
            await uow.commit()
    return UploadState(upload_id, row.length, written, added.asset.id), added


async def _start_again(container: Context, upload_id: str) -> None:
    """The bytes sent so far are not on this process's disk: offset 0 in the
    store, and a 409 that says so (a tus client asks HEAD and resends)."""
    async with container.uow() as uow:
        await uow.uploads.set_offset(upload_id, 0)
        await uow.commit()
    raise Conflict(
        "the bytes sent so far are not on this server: send the file again from offset 0",
        field="Upload-Offset",
    )


@contextmanager
def _sole_writer(path: Path, *, create: bool = True) -> Iterator[BinaryIO]:
    """The part file (made when missing, unless ``create`` is false), opened
    by this request alone. ``flock`` holds across processes and is released
    when the file closes, even if a process dies."""
    try:
        # 0o666 less the umask, as open() makes it (it becomes the media file)
        handle = os.fdopen(os.open(path, os.O_RDWR | (os.O_CREAT if create else 0), 0o666), "r+b")
    except FileNotFoundError:  # cancelled meanwhile
        raise Conflict("this upload is no longer open") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict("another request is writing to this upload") from None
        yield handle


async def _write(
    container: Context, handle: BinaryIO, row: UploadRecord, chunks: AsyncIterable[bytes]
) -> int:
    """Write the body at the row's offset; the new offset is stored even if
    the connection breaks (that is the point of resuming)."""
    written = row.offset
    try:
        handle.seek(row.offset)
        handle.truncate()  # bytes past the offset the store knows are not the upload's
        async for chunk in chunks:
            if written + len(chunk) > row.length:
                raise InvalidInput("more bytes than Upload-Length", field="Upload-Length")
            handle.write(chunk)
            written += len(chunk)
    finally:
        handle.flush()
        async with container.uow() as uow:
            await uow.uploads.set_offset(row.id, written)
            await uow.commit()
    return written


async def cancel(container: Context, actor: Actor, upload_id: str) -> None:
    """Drop an upload; not while a PATCH is writing it (409)."""
    await _row(container, actor, upload_id)
    path = part_path(container, upload_id)
    if path.exists():
        with _sole_writer(path, create=False):
            path.unlink(missing_ok=True)
    async with container.uow() as uow:
        await uow.uploads.remove(upload_id)
        await uow.commit()
