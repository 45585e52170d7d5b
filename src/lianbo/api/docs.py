"""/docs (Swagger UI) and /redoc, served from the package: no CDN needed.

A control centre's network often has no way out, and FastAPI's default
pages load their scripts from a CDN. The files come from the
``fastapi-offline`` wheel (Swagger UI 5, which reads OpenAPI 3.1, and
ReDoc); only its static folder is used. The OpenAPI document names the
bearer scheme, so Swagger UI's Authorize button takes a token from
``POST /api/v1/auth/token`` and sends it with every call.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"
BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "a token from POST /api/v1/auth/token (or a screen's, for /terminal/v1)",
}


def _static_dir() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


def install_docs(app: FastAPI) -> None:
    """Serve /docs and /redoc from local files and describe bearer auth.

    The app must be built with ``docs_url=None, redoc_url=None``.
    """
    app.mount(ASSETS, StaticFiles(directory=_static_dir()), name="docs-assets")
    title = f"{app.title} API"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=str(app.openapi_url),
            title=title,
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
            # The token survives a page reload (kept in the browser's storage).
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=str(app.openapi_url),
            title=title,
            redoc_js_url=f"{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS}/favicon.png",
            with_google_fonts=False,
        )

    app.openapi = _with_bearer(app.openapi)  # type: ignore[method-assign]


def _with_bearer(build: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """The document ``build`` makes, with an HTTP bearer scheme unless it
    already has one. Security is optional at the top level (``{}``): the
    login, enrolment and health endpoints take no token."""

    def openapi() -> dict[str, Any]:
        schema = build()
        schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
        if not any(_is_bearer(scheme) for scheme in schemes.values()):
            schemes["bearer"] = dict(BEARER)
            schema.setdefault("security", [{"bearer": []}, {}])
        return schema

    return openapi


def _is_bearer(scheme: dict[str, Any]) -> bool:
    return scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer"
