"""/terminal/v1/playlog and /terminal/v1/screenshot: what screens report back.

The token decides the terminal: a ``terminal_id`` field naming another
terminal is refused (403), so a screen can only speak for itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from lianbo.api.deps import ContainerDep, bearer_token
from lianbo.domain.errors import Forbidden, InvalidInput, TooLarge
from lianbo.domain.text import check_text
from lianbo.protocol import json_input
from lianbo.services import playlog, screenshots
from lianbo.services.monitor_callers import Caller

router = APIRouter(prefix="/terminal/v1", tags=["terminal"])

MAX_PLAYLOG_BYTES = 1024 * 1024
_FORM_SLACK = 64 * 1024  # multipart boundaries and the small fields


def _own(caller: Caller, claimed: Any) -> None:
    if isinstance(claimed, str):  # the text rule first: a NUL is bad input, not a stranger
        check_text(claimed, "terminal_id")
    if claimed not in (None, "") and claimed != caller.screen.id:
        raise Forbidden("a terminal reports only for itself", field="terminal_id")


@router.post("/playlog")
async def post_playlog(request: Request, container: ContainerDep) -> JSONResponse:
    """A batch of proof-of-play rows → {accepted, rejected: [{index, reason}], unauthorised}.

    The answer is rendered directly: it can name hundreds of rows, and
    FastAPI's generic encoder walks every one of them first."""
    caller = await container.monitor.callers.caller(container, bearer_token(request))
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_PLAYLOG_BYTES:  # refuse before reading it
        raise TooLarge(f"a play log is at most {MAX_PLAYLOG_BYTES} bytes")
    raw = await request.body()
    if len(raw) > MAX_PLAYLOG_BYTES:
        raise TooLarge(f"a play log is at most {MAX_PLAYLOG_BYTES} bytes")
    try:
        body = json_input.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("a play log is a JSON object") from None
    if isinstance(body, dict):
        _own(caller, body.get("terminal_id"))
    entries = playlog.entries_of(body)
    outcome = await container.monitor.playlog(container, caller, entries)
    return JSONResponse(outcome.as_json())


@router.post("/screenshot")
async def post_screenshot(request: Request, container: ContainerDep) -> dict[str, Any]:
    """multipart ``file`` (JPEG/PNG) + ``taken_at`` (+ ``source``) → the verdict."""
    caller = await container.monitor.callers.caller(container, bearer_token(request))
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > screenshots.MAX_BYTES + _FORM_SLACK:
        raise TooLarge(f"a screenshot is at most {screenshots.MAX_BYTES} bytes", field="file")
    try:
        form = await request.form(max_files=1, max_fields=10)
    except Exception as error:  # Starlette's multipart errors: a malformed body
        raise InvalidInput(f"a screenshot is multipart/form-data ({error})") from None
    _own(caller, form.get("terminal_id"))
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInput("the screenshot goes in the multipart field 'file'", field="file")
    data = await upload.read(screenshots.MAX_BYTES + 1)
    taken_at = _time(form.get("taken_at"))
    source = str(form.get("source") or "framebuffer")
    stub = str(form.get("stub") or "").lower() == "true"
    return await container.monitor.screenshot(container, caller, data, taken_at, source, stub=stub)


def _time(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidInput("taken_at is an RFC 3339 time with offset", field="taken_at")
    return moment
