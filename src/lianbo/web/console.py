"""The operator console: pages, static files and HTML error pages."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from lianbo.domain.errors import DomainError
from lianbo.web.forms import (
    refuse_control_characters_in_path,
    status_of,
    without_control_characters,
)
from lianbo.web.pages import (
    alarms,
    alert_detail,
    alert_feeds,
    alerts,
    asset_detail,
    audit,
    auth,
    dashboard,
    keys,
    library,
    monitoring,
    play,
    playlists,
    regions,
    reports,
    review_queue,
    schedule_detail,
    schedules,
    terminal_detail,
    terminals,
    upload,
    users,
    what_plays,
)
from lianbo.web.render import build_environment, render
from lianbo.web.session import (
    COOKIE,
    CsrfRefused,
    LoginRequired,
    current_console,
    login_url,
    safe_next,
)

STATIC_DIR = Path(__file__).parent / "static"

# Paths that belong to machines (API clients, terminals, monitoring): their
# errors stay JSON. Everything else is the console and gets HTML pages.
MACHINE_PREFIXES = (
    "/api/",
    "/terminal/",
    "/media/",
    "/manifests/",
    "/feeds/",
    "/static/",
    "/healthz",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/redoc",
)

Handler = Callable[[Request, Exception], Awaitable[Response]]
Installed = Callable[[Request, Any], Response | Awaitable[Response]]


def is_console_path(path: str) -> bool:
    """True for paths whose errors a person sees in a browser."""
    return not path.startswith(MACHINE_PREFIXES)


def mount(app: FastAPI) -> None:
    """Add the console's pages and static files to ``app``."""
    app.state.console_env = build_environment()
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    pages = (auth, dashboard, terminals, terminal_detail, regions, users, audit, keys)
    # The library's fixed paths (/assets/grid, /assets/uploads) before /assets/{id}.
    content = (library, upload, asset_detail, review_queue)
    programme = (playlists, schedules, schedule_detail, what_plays)
    # /alerts/new before /alerts/{id}.
    safety = (alert_feeds, alerts, alert_detail, monitoring, alarms, reports)
    for module in (*pages, *content, *programme, *safety, play):  # /play: a screen, no login
        app.include_router(module.router, dependencies=[Depends(refuse_control_characters_in_path)])
    app.add_middleware(CleanConsoleQuery)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(CsrfRefused, _csrf_refused)
    # The API's JSON handlers stay in charge of machine paths; the console
    # takes over only for pages, by wrapping whatever was installed before.
    for kind in (DomainError, StarletteHTTPException, RequestValidationError):
        previous = app.exception_handlers.get(kind)
        app.add_exception_handler(kind, _html_for_console(previous))


class CleanConsoleQuery:
    """Before routing, drop the console query pairs that break the one text
    rule (``domain.text``), so every reader of the query sees them absent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["query_string"] and is_console_path(scope["path"]):
            cleaned = without_control_characters(scope["query_string"])
            if cleaned is not None:
                scope = {**scope, "query_string": cleaned}
        await self.app(scope, receive, send)


async def _login_required(request: Request, error: Exception) -> Response:
    assert isinstance(error, LoginRequired)
    if request.headers.get("HX-Request"):
        # A partial refresh after the session expired: move the whole page,
        # and come back to the page (not the fragment) after signing in.
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = current.path + (f"?{current.query}" if current.query else "")
        return Response(status_code=204, headers={"HX-Redirect": login_url(safe_next(back))})
    target = login_url(error.next_path if request.method == "GET" else "/")
    return RedirectResponse(target, status_code=303)


async def _csrf_refused(request: Request, error: Exception) -> Response:
    return error_page(request, 403, "error.csrf")


def error_page(request: Request, status: int, message_key: str, detail: str = "") -> Response:
    """The console-styled error page (inside the layout when signed in)."""
    return render(
        request,
        "error.html",
        {"status": status, "message_key": message_key, "detail": detail},
        status=status,
    )


def _html_for_console(previous: Installed | None) -> Handler:
    async def handle(request: Request, error: Exception) -> Response:
        if is_console_path(request.url.path) or previous is None:
            await _attach_console(request)
            return _console_error(request, error)
        answer = previous(request, error)
        return await answer if inspect.isawaitable(answer) else answer

    return handle


async def _attach_console(request: Request) -> None:
    """Find who is signed in, so an unknown page still shows the layout.

    Routes that matched have done this already; a 404 for an unknown path
    never ran a dependency.
    """
    if getattr(request.state, "console", None) is not None or not request.cookies.get(COOKIE):
        return
    container = request.app.state.container
    try:
        async with container.uow() as uow:
            await current_console(request, container, uow)
    except LoginRequired:
        pass


def _console_error(request: Request, error: Exception) -> Response:
    if isinstance(error, DomainError):
        status = status_of(error)
        return error_page(request, status, f"error.{status}", error.message)
    if isinstance(error, StarletteHTTPException):
        status = error.status_code if error.status_code in (403, 404, 405) else 400
        return error_page(request, status, f"error.{status}")
    return error_page(request, 400, "error.400")
