"""The screenshot fast path: verify a screen's screenshot before routing.

Two hundred screenshots a second are the target on two cores; routing,
dependency solving and Starlette's form machinery (a spooled file per
upload) cost about a third of what verifying a shot costs. When this
process's caches know the token and the body is a plain multipart form
(``file`` + the small fields), the form is split here and the shot goes
to the same service as the route's. Anything unusual — a cache miss, an
odd body, a field the route would refuse, any error from the service
(raised before anything is stored) — falls through to the real route
with the body replayed, so every answer but success is the route's own.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from python_multipart.multipart import parse_options_header
from starlette.types import ASGIApp, Receive, Scope, Send

from lianbo.api.asgi_body import answer_json, read_body, replay
from lianbo.domain.errors import DomainError
from lianbo.domain.tokens import digest
from lianbo.services import screenshots

if TYPE_CHECKING:
    from lianbo.bootstrap import Container
    from lianbo.services.monitor_callers import Caller

PATH = "/terminal/v1/screenshot"
MAX_BODY = screenshots.MAX_BYTES + 64 * 1024  # the route's limit: the file plus the form
FIELDS = frozenset({"file", "taken_at", "source", "stub", "terminal_id"})
_TRUE = "true"


class ScreenshotFastPath:
    def __init__(self, app: ASGIApp, container: Container) -> None:
        self.app = app
        self.container = container

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        caller = self._caller(headers.get(b"authorization", b""))
        boundary = _boundary(headers.get(b"content-type", b""))
        declared = headers.get(b"content-length", b"")
        if caller is None or boundary is None or not declared.isdigit():
            await self.app(scope, receive, send)
            return
        if int(declared) > MAX_BODY:
            await self.app(scope, receive, send)  # the route refuses it unread (413)
            return
        body, complete = await read_body(receive, MAX_BODY)
        form = split_form(body, boundary) if complete else None
        answer = await self._verify(caller, form) if form is not None else None
        if answer is None:
            await self.app(scope, replay(body, receive, complete), send)
            return
        await answer_json(send, 200, answer)

    def _caller(self, authorization: bytes) -> Caller | None:
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self.container.monitor.callers.cached_caller(self.container, digest(token.strip()))

    async def _verify(self, caller: Caller, form: dict[str, bytes]) -> dict[str, Any] | None:
        """The route's answer for a good shot; None for anything the route must judge."""
        fields = {name: _text(value) for name, value in form.items() if name != "file"}
        if "file" not in form or None in fields.values():
            return None
        claimed = fields.get("terminal_id")
        taken_at = _time(fields.get("taken_at"))
        if claimed not in (None, "", caller.screen.id) or taken_at is None:
            return None
        source = fields.get("source") or "framebuffer"
        stub = (fields.get("stub") or "").lower() == _TRUE
        try:
            return await self.container.monitor.screenshot(
                self.container, caller, form["file"], taken_at, source, stub=stub
            )
        except DomainError:  # raised before anything is stored: the route answers it
            return None


def _boundary(content_type: bytes) -> bytes | None:
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary", b"")
    if kind != b"multipart/form-data" or not 0 < len(boundary) <= 70:
        return None
    return boundary


def split_form(body: bytes, boundary: bytes) -> dict[str, bytes] | None:
    """The parts of a plain multipart/form-data body by name, or None when it is
    not plain: a preamble, a repeated or unknown name, a part without a name,
    anything after the closing delimiter but a line break."""
    opening, closing = b"--" + boundary + b"\r\n", b"\r\n--" + boundary + b"--"
    end = body.rfind(closing)
    if not body.startswith(opening) or end < 0 or body[end + len(closing) :] not in (b"", b"\r\n"):
        return None
    form: dict[str, bytes] = {}
    for part in body[len(opening) : end].split(b"\r\n--" + boundary + b"\r\n"):
        head, separator, content = part.partition(b"\r\n\r\n")
        name, is_file = _name(head) if separator else (None, False)
        # Only ``file`` is a file (Starlette's rule: a part with a filename).
        if name not in FIELDS or name in form or is_file != (name == "file"):
            return None
        form[name] = content
    return form


def _name(head: bytes) -> tuple[str | None, bool]:
    """The form field name a part's headers give (or None), and whether it is a file."""
    for line in head.split(b"\r\n"):
        field, _, value = line.partition(b":")
        if field.strip().lower() == b"content-disposition":
            kind, options = parse_options_header(value.strip())
            name = options.get(b"name")
            if kind != b"form-data" or not name:
                return None, False
            return name.decode("latin-1"), b"filename" in options
    return None, False


def _text(value: bytes) -> str | None:
    try:
        return value.decode("utf-8") if len(value) <= 256 else None
    except UnicodeDecodeError:
        return None


def _time(value: str | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None
