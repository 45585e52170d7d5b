"""Every error leaves as ``{"error": {"code", "message", "field"?}}``."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from lianbo.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthorized,
    Unavailable,
    Unprocessable,
)

log = structlog.get_logger()

STATUS: dict[type[DomainError], int] = {
    Unprocessable: 422,
    InvalidInput: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    TooLarge: 413,
    RateLimited: 429,
    Unavailable: 503,
}


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if field:
        body["field"] = field
    return {"error": body}


def _status_of(error: DomainError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


async def _domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    headers = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(
        error_body(error.code, error.message, error.field),
        status_code=_status_of(error),
        headers=headers,
    )


def _field_of(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid request"}
    field = _field_of(tuple(first.get("loc", ())))
    message = str(first.get("msg", "invalid request"))
    if first.get("type") == "json_invalid":
        message, field = "request body is not valid JSON", None
    return JSONResponse(
        error_body("validation", f"{field}: {message}" if field else message, field),
        status_code=422,
    )


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
    return JSONResponse(
        error_body(codes.get(error.status_code, "http"), str(error.detail)),
        status_code=error.status_code,
        headers=getattr(error, "headers", None),
    )


# nginx's convention for "the client closed the request": not a server error.
CLIENT_CLOSED = 499


async def _client_aborted(request: Request, error: Exception) -> Response:
    """A client that went away mid-request (a broken upload, a closed tab) is
    the client's doing: one line in the log, no traceback, not a 500. Nobody
    reads the answer; it is for the request metrics."""
    log.info("client aborted", method=request.method, path=request.url.path)
    return Response(status_code=CLIENT_CLOSED)


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error", path=request.url.path)
    return JSONResponse(error_body("internal", "internal server error"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ClientDisconnect, _client_aborted)
    app.add_exception_handler(Exception, _unexpected)
