"""Request body limits, enforced while reading, before any route reads.

A route that reads its body and then refuses it (a 422 for a 400 MB login,
a 413 after 600 MB of CSV) has already spent the memory. Here every
request gets the limit of its endpoint from one table: a declared
``Content-Length`` over it is answered 413 at once, unread; a chunked body
is counted as it arrives and answered 413 the moment it passes the limit
(the rest is never read). Whatever the route was doing with the body is
dropped: the client sees only the 413, with the JSON error shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lianbo.adapters.cap import MAX_BYTES as CAP_BYTES
from lianbo.api.asgi_body import answer_json
from lianbo.api.errors import error_body
from lianbo.api.routes.terminal_reports import MAX_PLAYLOG_BYTES
from lianbo.api.routes.terminal_v1 import MAX_STATUS_BYTES
from lianbo.api.routes.terminals import CSV_MAX_BYTES
from lianbo.api.screenshot_fastpath import MAX_BODY as SCREENSHOT_BYTES
from lianbo.config import Settings

LOGIN_BYTES = 4 * 1024  # a user name and a password; unauthenticated, so small
FORM_SLACK = 64 * 1024  # multipart boundaries and the small fields beside a file
TERMINAL_BYTES = 16 * 1024  # enrolment, alert acks: a few fields

Limit = Callable[[Settings], int]


def _fixed(size: int) -> Limit:
    return lambda _settings: size


def _upload(settings: Settings) -> int:
    return settings.max_upload_bytes + FORM_SLACK


def _json(settings: Settings) -> int:
    return settings.max_json_bytes


@dataclass(frozen=True, slots=True)
class Rule:
    """Bodies of requests whose path matches ``pattern`` are at most ``limit`` bytes."""

    pattern: re.Pattern[str]
    limit: Limit


def _rule(pattern: str, limit: Limit) -> Rule:
    return Rule(re.compile(pattern), limit)


# First match wins; anything unlisted (the JSON API, console forms) gets
# ``max_json_bytes``. Media routes take ``max_upload_bytes`` (uploads stream
# to disk, never to memory).
RULES = (
    _rule(r"/api/v1/auth/token|/login", _fixed(LOGIN_BYTES)),
    _rule(r"/api/v1/uploads(/[^/]*)?|/assets/uploads(/[^/]*)?", _upload),
    _rule(r"/api/v1/assets", _upload),
    _rule(r"/(api/v1/)?terminals/import", _fixed(CSV_MAX_BYTES + FORM_SLACK)),
    _rule(r"/api/v1/alerts/cap", _fixed(CAP_BYTES)),
    _rule(r"/terminal/v1/heartbeat", _fixed(MAX_STATUS_BYTES)),
    _rule(r"/terminal/v1/playlog", _fixed(MAX_PLAYLOG_BYTES)),
    _rule(r"/terminal/v1/screenshot", _fixed(SCREENSHOT_BYTES)),
    _rule(r"/terminal/v1/.*", _fixed(TERMINAL_BYTES)),
)


def limit_for(path: str, content_type: str, settings: Settings) -> int:
    """The body limit of a request to ``path``; a JSON body is never over
    ``max_json_bytes``, whatever the endpoint also accepts."""
    limit = next((r.limit(settings) for r in RULES if r.pattern.fullmatch(path)), None)
    if limit is None:
        return _json(settings)
    if content_type.startswith("application/json"):
        return min(limit, _json(settings))
    return limit


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a body passes its limit. An HTTPException,
    so FastAPI's body parsing passes it on rather than calling it a parse error."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over this endpoint's limit of {limit} bytes")
        self.limit = limit


class BodyLimits:
    """Pure ASGI middleware applying ``RULES`` to every HTTP request."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared, content_type = _headers(scope)
        limit = limit_for(scope["path"], content_type, self.settings)
        if declared is not None and declared > limit:
            await _refuse(send, limit)
            return
        guard = _Guard(receive, send, limit)
        try:
            await self.app(scope, guard.receive, guard.send)
        except Exception:
            if guard.exceeded is None:
                raise
            # The route (or its error handling) failed on the refused body.
        if guard.exceeded is not None and not guard.started:
            await _refuse(send, limit)


class _Guard:
    """Counts the body as the app reads it; once over, answers 413 in place
    of whatever the app says."""

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self._receive, self._send, self.limit = receive, send, limit
        self.size = 0
        self.exceeded: BodyTooLarge | None = None
        self.started = False

    async def receive(self) -> Message:
        if self.exceeded is not None:
            raise self.exceeded
        message = await self._receive()
        if message["type"] == "http.request":
            self.size += len(message.get("body", b""))
            if self.size > self.limit:
                self.exceeded = BodyTooLarge(self.limit)
                raise self.exceeded
        return message

    async def send(self, message: Message) -> None:
        if self.exceeded is not None and not self.started:
            self.started = True
            await _refuse(self._send, self.limit)
            return
        if self.exceeded is not None:
            return  # the rest of the app's own answer, already replaced
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


def _headers(scope: Scope) -> tuple[int | None, str]:
    declared, content_type = None, ""
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit():
            declared = int(value)
        elif name == b"content-type":
            content_type = value.decode("latin-1").lower()
    return declared, content_type


async def _refuse(send: Send, limit: int) -> None:
    message = f"the request body is over this endpoint's limit of {limit} bytes"
    # Close: the unread rest of the body must not be taken for a next request.
    await answer_json(send, 413, error_body("too_large", message), ((b"connection", b"close"),))
