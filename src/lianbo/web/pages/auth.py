"""Signing in and out, and switching the console's language."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from lianbo.api.deps import ContainerDep, UowDep, client_address
from lianbo.domain.errors import RateLimited, Unauthorized
from lianbo.services import auth
from lianbo.web import i18n
from lianbo.web.forms import form_text
from lianbo.web.render import render
from lianbo.web.session import (
    LANG_COOKIE,
    PostConsoleDep,
    clear_session_cookie,
    safe_next,
    set_session_cookie,
)

router = APIRouter(include_in_schema=False)

LANG_MAX_AGE = 365 * 24 * 3600


@router.get("/login")
async def login_form(request: Request) -> Response:
    """The sign-in page; ``next`` says where to go afterwards."""
    next_path = safe_next(request.query_params.get("next"))
    return render(request, "login.html", {"next": next_path, "username": "", "error": ""})


@router.post("/login")
async def login(request: Request, container: ContainerDep, uow: UowDep) -> Response:
    """Check the password, set the session cookie and go to ``next``."""
    form = await form_text(request)
    username = form.get("username", "").strip()[:64]
    next_path = safe_next(form.get("next"))
    context = {"next": next_path, "username": username}
    try:
        token, _user = await auth.login(
            uow,
            container.clock,
            container.limiter,
            username=username,
            password=form.get("password", "")[:256],
            address=client_address(request),
            kind=auth.SESSION,
            ttl=container.session_ttl,
        )
    except RateLimited as error:
        return render(
            request,
            "login.html",
            {**context, "error": "login.rate_limited", "retry": error.retry_after},
            status=429,
            headers={"Retry-After": str(error.retry_after)},
        )
    except Unauthorized:
        return render(request, "login.html", {**context, "error": "login.wrong"}, status=401)
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(
        response,
        token,
        max_age=int(container.session_ttl.total_seconds()),
        secure=container.settings.secure_cookies,
    )
    return response


@router.post("/logout")
async def logout(console: PostConsoleDep, container: ContainerDep, uow: UowDep) -> Response:
    """End the session on the server, not just in this browser."""
    await auth.logout(uow, container.clock, console.actor, console.token)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, secure=container.settings.secure_cookies)
    return response


@router.get("/lang/{language}")
async def switch_language(request: Request, language: str, container: ContainerDep) -> Response:
    """Remember the language in a cookie and go back where the switch was."""
    chosen = i18n.supported(language) or i18n.DEFAULT
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    response.set_cookie(
        LANG_COOKIE,
        chosen,
        max_age=LANG_MAX_AGE,
        samesite="lax",
        secure=container.settings.secure_cookies,
        path="/",
    )
    return response
