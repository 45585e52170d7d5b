"""/api/v1/terminals: create, list, edit, retire, bulk import."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.datastructures import UploadFile

from lianbo.api.command_schemas import CommandIn, CommandOut, CommandStateOut
from lianbo.api.deps import ActorDep, ContainerDep, UowDep
from lianbo.api.programming_schemas import (
    TimelineEntryOut,
)
from lianbo.api.routes.common import AwareMoment, Limit, Offset
from lianbo.api.schemas import (
    ImportedTerminal,
    ImportResult,
    Page,
    TerminalCreate,
    TerminalCreated,
    TerminalOut,
    TerminalPatch,
)
from lianbo.domain.errors import InvalidInput
from lianbo.domain.targeting import Audience
from lianbo.domain.terminals import (
    TerminalChanges,
    TerminalDraft,
    TerminalFilter,
    TerminalStatus,
    Tier,
)
from lianbo.services import commands, manifests, terminals
from lianbo.services.terminals import IssuedCode

router = APIRouter(prefix="/api/v1/terminals", tags=["terminals"])

CSV_MAX_BYTES = 20 * 1024 * 1024


def created_out(issued: IssuedCode) -> TerminalCreated:
    return TerminalCreated(
        **TerminalOut.of(issued.terminal).model_dump(),
        enrolment_code=issued.code,
        enrolment_code_expires_at=issued.expires_at,
    )


@router.get("")
async def list_terminals(
    actor: ActorDep,
    uow: UowDep,
    region: Annotated[str | None, Query(max_length=12)] = None,
    tier: Tier | None = None,
    status: TerminalStatus | None = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    group: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[str | None, Query(max_length=120)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[TerminalOut]:
    where = TerminalFilter(region=region, tier=tier, status=status, tag=tag, group=group, search=q)
    found, total = await terminals.list_terminals(uow, actor, where, limit=limit, offset=offset)
    return Page(items=[TerminalOut.of(t) for t in found], total=total)


@router.post("", status_code=201)
async def create_terminal(
    body: TerminalCreate, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> TerminalCreated:
    """Create a terminal; the answer carries its one-time enrolment code."""
    draft = TerminalDraft(
        name=body.name,
        tier=body.tier,
        region=body.region,
        latitude=body.latitude,
        longitude=body.longitude,
        tags=tuple(body.tags),
        groups=tuple(body.groups),
    )
    return created_out(await terminals.create_terminal(uow, container.clock, actor, draft))


@router.post("/import", status_code=201)
async def import_terminals(
    request: Request, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> ImportResult:
    """Bulk-create from CSV (a multipart ``file`` or a ``text/csv`` body)."""
    text = await read_csv_upload(request)
    issued = await terminals.import_csv(uow, container.clock, actor, text)
    return ImportResult(
        created=len(issued),
        enrolment_code_expires_at=issued[0].expires_at,
        items=[
            ImportedTerminal(
                id=i.terminal.id,
                name=i.terminal.name,
                region=i.terminal.region,
                enrolment_code=i.code,
            )
            for i in issued
        ],
    )


async def read_csv_upload(request: Request) -> str:
    """The CSV text of a request, size-checked and decoded as UTF-8."""
    length = int(request.headers.get("content-length") or 0)
    if length > CSV_MAX_BYTES:
        raise InvalidInput("CSV is larger than 20 MB", field="file")
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("multipart field 'file' is missing", field="file")
        raw = await upload.read(CSV_MAX_BYTES + 1)
    else:
        raw = await request.body()
    if len(raw) > CSV_MAX_BYTES:
        raise InvalidInput("CSV is larger than 20 MB", field="file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("CSV must be UTF-8 text", field="file") from None


@router.get("/{terminal_id}")
async def get_terminal(terminal_id: str, actor: ActorDep, uow: UowDep) -> TerminalOut:
    return TerminalOut.of(await terminals.get_terminal(uow, actor, terminal_id))


@router.patch("/{terminal_id}")
async def update_terminal(
    terminal_id: str, body: TerminalPatch, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> TerminalOut:
    for key in body.model_fields_set:
        if getattr(body, key) is None:
            raise InvalidInput(f"{key} cannot be null", field=key)
    changes = TerminalChanges(
        name=body.name,
        tier=body.tier,
        region=body.region,
        latitude=body.latitude,
        longitude=body.longitude,
        tags=None if body.tags is None else tuple(body.tags),
        groups=None if body.groups is None else tuple(body.groups),
    )
    updated = await terminals.update_terminal(uow, container.clock, actor, terminal_id, changes)
    return TerminalOut.of(updated)


@router.post("/{terminal_id}/retire")
async def retire_terminal(
    terminal_id: str, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> TerminalOut:
    retired = await terminals.retire_terminal(uow, container.clock, actor, terminal_id)
    return TerminalOut.of(retired)


@router.post("/{terminal_id}/enrolment-code", status_code=201)
async def reissue_code(
    terminal_id: str, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> TerminalCreated:
    """A fresh one-time enrolment code; earlier unused codes stop working."""
    return created_out(await terminals.reissue_code(uow, container.clock, actor, terminal_id))


@router.post("/{terminal_id}/commands", status_code=202)
async def send_command(
    terminal_id: str, body: CommandIn, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> CommandOut:
    """Push ``screenshot``, ``reload`` or ``restart`` to the screen (audited).
    Accepted, not done: ``delivered`` says the screen was connected; it
    acknowledges on the fleet channel once carried out."""
    sent = await commands.send_command(
        uow, container.fleet, container.clock, actor, terminal_id, body.command
    )
    return CommandOut.of(sent)


@router.get("/{terminal_id}/commands")
async def recent_commands(
    terminal_id: str,
    actor: ActorDep,
    uow: UowDep,
    limit: Annotated[int, Query(ge=1, le=commands.KEPT)] = commands.RECENT,
) -> list[CommandStateOut]:
    """The screen's latest commands, newest first, with their delivery and
    acknowledgement (from the store: the same on every server process)."""
    terminal = await terminals.get_terminal(uow, actor, terminal_id)
    return [CommandStateOut.of(c) for c in await commands.recent_commands(uow, terminal.id, limit)]


@router.get("/{terminal_id}/timeline")
async def timeline(
    terminal_id: str,
    actor: ActorDep,
    uow: UowDep,
    at: AwareMoment | None = None,
    hours: Annotated[int, Query(ge=1, le=168)] = 24,
) -> list[TimelineEntryOut]:
    """What this screen plays from ``at`` (default now) for ``hours``, and why."""
    terminal = await terminals.get_terminal(uow, actor, terminal_id)
    start = at or datetime.now(UTC)
    entries = await manifests.timeline(
        uow, Audience.of(terminal), start, start + timedelta(hours=hours)
    )
    return [
        TimelineEntryOut(
            start=e.start,
            end=e.end,
            schedule_id=e.schedule.id if e.schedule else None,
            schedule_name=e.schedule.name if e.schedule else None,
            priority=e.schedule.priority.value if e.schedule else "filler",
            sync=bool(e.schedule and e.schedule.sync),
            reason=e.reason,
            items=e.items,
        )
        for e in entries
    ]
