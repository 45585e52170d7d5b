"""Rendering console pages: one Jinja environment, one context, safe headers."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from lianbo.domain.regions import full_form
from lianbo.web import i18n
from lianbo.web.domain_messages import localise
from lianbo.web.media_view import clock, human_size, seconds
from lianbo.web.session import CSRF_FIELD, LANG_COOKIE, Console, here

# The control centre works in Beijing time; stored times are UTC.
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")

# Scripts only from our own origin (htmx and console.js are vendored), no
# framing. Inline style attributes are allowed: bar widths are data.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A stored (UTC) time as Beijing time; empty for None."""
    if value is None:
        return ""
    return value.astimezone(LOCAL_ZONE).strftime(fmt)


@jinja2.pass_context
def say(context: jinja2.runtime.Context, message: str) -> str:
    """A domain error message in the page's language (``{{ error | say }}``)."""
    return localise(str(context.get("lang", i18n.DEFAULT)), message)


def build_environment() -> jinja2.Environment:
    """The console's Jinja environment (built by ``mount``, not at import)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lianbo.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = local_time
    env.filters["full_code"] = full_form
    env.filters["say"] = say
    env.filters["clock"] = clock
    env.filters["size"] = human_size
    env.filters["secs"] = seconds
    env.globals["CSRF_FIELD"] = CSRF_FIELD
    env.globals["LANGUAGE_NAMES"] = i18n.LANGUAGE_NAMES
    return env


def language_of(request: Request) -> str:
    """Cookie first, then the user's saved preference, then zh-CN."""
    chosen = i18n.supported(request.cookies.get(LANG_COOKIE))
    if chosen:
        return chosen
    console: Console | None = getattr(request.state, "console", None)
    if console is not None:
        return i18n.supported(console.actor.language) or i18n.DEFAULT
    return i18n.DEFAULT


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` with the layout's context and the security headers."""
    env: jinja2.Environment = request.app.state.console_env
    language = language_of(request)
    console: Console | None = getattr(request.state, "console", None)
    base: dict[str, Any] = {
        "request": request,
        "lang": language,
        "t": i18n.translator(language),
        "t_or": lambda key, fallback: i18n.translate_or(language, key, fallback),
        "console": console,
        "csrf": console.csrf if console else "",
        "here": here(request),
        "section": "",
    }
    html = env.get_template(template).render({**base, **(context or {})})
    return HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})
