"""The heartbeat fast path: answer a screen's heartbeat before routing.

Tens of thousands of screens beat every 30 s; routing and dependency
solving cost several times what storing a heartbeat costs (it is only
queued, ``services.monitoring``). When this process's caches know the
token and the body is a small JSON object, the heartbeat is admitted and
answered here. Anything else (unknown token, bad body) falls through to
the real route with the body replayed, so the semantics are the route's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Receive, Scope, Send

from lianbo.api.asgi_body import answer_json, read_body, replay
from lianbo.api.errors import error_body
from lianbo.domain.errors import RateLimited
from lianbo.domain.text import refused_in_json
from lianbo.domain.tokens import digest
from lianbo.protocol import json_input

if TYPE_CHECKING:
    from lianbo.bootstrap import Container

PATH = "/terminal/v1/heartbeat"
MAX_BYTES = 16 * 1024  # as terminal_v1.MAX_STATUS_BYTES


class HeartbeatFastPath:
    def __init__(self, app: ASGIApp, container: Container) -> None:
        self.app = app
        self.container = container

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        token = _bearer(scope)
        callers = self.container.monitor.callers
        caller = callers.cached_caller(self.container, digest(token)) if token else None
        if caller is None:
            await self.app(scope, receive, send)
            return
        body, complete = await read_body(receive, MAX_BYTES)
        ok, status = _status(body) if complete else (False, None)
        if not ok:
            await self.app(scope, replay(body, receive, complete), send)
            return
        try:
            now = await self.container.monitor.heartbeat(caller.screen.id, status)
        except RateLimited as error:
            headers = ((b"retry-after", str(error.retry_after).encode()),)
            await answer_json(send, 429, error_body(error.code, error.message), headers)
            return
        reply = {
            "server_time": now.isoformat(),
            "heartbeat_seconds": self.container.settings.heartbeat_seconds,
            "audience": caller.audience,
        }
        await answer_json(send, 200, reply)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


def _status(body: bytes) -> tuple[bool, dict[str, Any] | None]:
    """(usable, the status object or None for an empty body); unusable
    bodies go to the route, which answers them."""
    if not body:
        return True, None
    try:
        status = json_input.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False, None
    if not isinstance(status, dict) or refused_in_json(status) is not None:
        return False, None  # the route answers it (a control character: 422)
    return True, status
