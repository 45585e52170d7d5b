"""Resumable uploads (tus 1.0 core + creation): a broken upload continues
from the last byte the server has."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from lianbo.adapters.db.repos.uploads import UploadRecord
from lianbo.bootstrap import Container
from lianbo.domain.assets import clean_name
from lianbo.domain.errors import Conflict, InvalidInput, NotFound, TooLarge
from lianbo.domain.users import Actor
from lianbo.services.assets import Added, require_content_manager
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


def part_path(container: Container, upload_id: str) -> Path:
    folder = container.settings.media_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{upload_id}.part"


async def create(container: Container, actor: Actor, length: int, metadata: dict[str, str]) -> str:
    require_content_manager(actor)
    limit = container.settings.max_upload_bytes
    if length > limit:
        raise TooLarge(f"file is larger than the limit of {limit} bytes", field="Upload-Length")
    if length <= 0:
        raise InvalidInput("Upload-Length must be positive", field="Upload-Length")
    name = clean_name(metadata.get("name") or metadata.get("filename") or "upload")
    upload_id = uuid.uuid4().hex
    now = container.clock.now()
    part_path(container, upload_id).touch()
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


async def _row(container: Container, actor: Actor, upload_id: str) -> UploadRecord:
    async with container.uow() as uow:
        row = await uow.uploads.get(upload_id)
    if row is None or row.owner_id != actor.user_id:
        raise NotFound("upload not found")
    return row


async def state(container: Container, actor: Actor, upload_id: str) -> UploadState:
    row = await _row(container, actor, upload_id)
    return UploadState(row.id, row.length, row.offset, row.asset_id)


async def append(
    container: Container, actor: Actor, upload_id: str, offset: int, chunks: object
) -> tuple[UploadState, Added | None]:
    """Append bytes at ``offset``; when the last byte arrives, ingest the file."""
    row = await _row(container, actor, upload_id)
    if row.asset_id is not None or offset != row.offset:
        raise Conflict(f"Upload-Offset must be {row.offset}", field="Upload-Offset")
    path = part_path(container, upload_id)
    written = row.offset
    try:
        with path.open("r+b") as handle:
            handle.seek(row.offset)
            async for chunk in chunks:  # type: ignore[attr-defined]
                if written + len(chunk) > row.length:
                    raise InvalidInput("more bytes than Upload-Length", field="Upload-Length")
                handle.write(chunk)
                written += len(chunk)
    finally:
        # Keep what arrived even if the connection broke: that is the point.
        async with container.uow() as uow:
            await uow.uploads.set_offset(upload_id, written)
            await uow.commit()
    if written < row.length:
        return UploadState(upload_id, row.length, written, None), None
    blob = container.blobs.adopt(path)
    added = await ingest_blob(container, actor, blob, row.name)
    async with container.uow() as uow:
        await uow.uploads.set_offset(upload_id, written, added.asset.id)
        await uow.commit()
    return UploadState(upload_id, row.length, written, added.asset.id), added


async def cancel(container: Container, actor: Actor, upload_id: str) -> None:
    await _row(container, actor, upload_id)
    part_path(container, upload_id).unlink(missing_ok=True)
    async with container.uow() as uow:
        await uow.uploads.remove(upload_id)
        await uow.commit()
