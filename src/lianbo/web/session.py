"""Console sessions: the cookie, the CSRF token and the signed-in operator."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request, Response

from lianbo.api.deps import ContainerDep, UowDep, client_address
from lianbo.domain.errors import InvalidInput, Unauthorized
from lianbo.domain.roles import Permission
from lianbo.domain.users import Actor
from lianbo.services import auth
from lianbo.services.regions import find_region
from lianbo.services.users import find_user

COOKIE = "lianbo_session"
LANG_COOKIE = "lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
MAX_FORM_BYTES = 21 * 1024 * 1024


class LoginRequired(Exception):
    """No live console session; the handler sends the browser to /login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRefused(Exception):
    """A state-changing request without the session's CSRF token (403)."""


def csrf_token(session_token: str) -> str:
    """The CSRF token bound to a session: derived, so nothing more is stored.

    An attacker's page can make the browser send the cookie but cannot read
    it, so it cannot compute this value.
    """
    return hashlib.sha256(("csrf:" + session_token).encode()).hexdigest()


def safe_next(raw: str | None, default: str = "/") -> str:
    """A same-site relative path to return to, or ``default``.

    Only ``/path`` is allowed: ``//host`` and ``/\\host`` are read by
    browsers as other sites, and absolute URLs would be an open redirect.
    """
    if not raw or not raw.startswith("/") or raw.startswith(("//", "/\\")):
        return default
    if any(ch in raw for ch in "\r\n\t\\") or any(ord(ch) < 32 for ch in raw):
        return default
    return raw


def here(request: Request) -> str:
    """The current path and query, for a ``next=`` parameter."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def login_url(next_path: str) -> str:
    """The sign-in page that returns to ``next_path`` afterwards."""
    return "/login?next=" + quote(next_path, safe="/")


@dataclass(frozen=True, slots=True)
class Console:
    """The signed-in operator as the layout shows them."""

    actor: Actor
    token: str
    display_name: str
    jurisdiction_name: str

    @property
    def csrf(self) -> str:
        """The token every state-changing form or HTMX request must carry."""
        return csrf_token(self.token)

    @property
    def is_admin(self) -> bool:
        """Admins see the Users and Audit sections."""
        return self.actor.can(Permission.MANAGE_USERS)

    @property
    def can_manage_terminals(self) -> bool:
        """Whether create/edit/import controls are shown at all."""
        return self.actor.can(Permission.MANAGE_TERMINALS)

    @property
    def can_manage_regions(self) -> bool:
        """Whether the add-a-township form is shown."""
        return self.actor.can(Permission.MANAGE_REGIONS)

    @property
    def can_manage_content(self) -> bool:
        """Upload, submit for review, edit playlists and schedules."""
        return self.actor.can(Permission.MANAGE_CONTENT)

    @property
    def can_review(self) -> bool:
        """Pass or fail review levels and revoke: the review queue is shown."""
        return self.actor.can(Permission.REVIEW_CONTENT)


async def current_console(request: Request, container: ContainerDep, uow: UowDep) -> Console:
    """The console session behind the cookie, or LoginRequired."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise LoginRequired(here(request))
    try:
        actor = await auth.authenticate(
            uow, container.clock, token, client_address(request), kind=auth.SESSION
        )
    except Unauthorized:
        raise LoginRequired(here(request)) from None
    user = await find_user(uow, actor.user_id)
    region = await find_region(uow, actor.jurisdiction) if actor.jurisdiction else None
    console = Console(
        actor=actor,
        token=token,
        display_name=user.display_name if user else actor.username,
        jurisdiction_name=region.full_name if region else "",
    )
    # Error pages raised later in this request still show who is signed in.
    request.state.console = console
    return console


ConsoleDep = Annotated[Console, Depends(current_console)]


async def checked_console(request: Request, console: ConsoleDep) -> Console:
    """The session, for a state-changing request that proved its CSRF token."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        # The token may be inside the body, so the body is parsed before the
        # token is known: refuse oversized ones first (the CSV limit is 20 MB).
        if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
            raise InvalidInput("request body is too large", field="file")
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            # Starlette caches the parsed form, so the handler can read it again.
            value = (await request.form()).get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), console.csrf.encode()):
        raise CsrfRefused()
    return console


PostConsoleDep = Annotated[Console, Depends(checked_console)]


def set_session_cookie(response: Response, token: str, *, max_age: int, secure: bool) -> None:
    """HttpOnly so page scripts never see it; Lax so other sites cannot POST with it."""
    response.set_cookie(
        COOKIE, token, max_age=max_age, httponly=True, samesite="lax", secure=secure, path="/"
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    """Forget the session in this browser (the server revokes it too)."""
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=secure)
