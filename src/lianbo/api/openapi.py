"""The OpenAPI document at ``/openapi.json``, told whole.

FastAPI describes what it can see in a route's signature: JSON bodies,
query and path parameters, the success answer. It cannot see what a route
reads from the raw request (multipart uploads, CAP XML, CSV, tus headers and
bytes), what it answers besides success (every error leaves as
``{"error": {"code", "message", "field"?}}``), nor who may call it. This
module post-processes the generated document so it says all of that:

- the bearer scheme ``bearerAuth`` (a user's token on ``/api/v1``, a
  screen's token on ``/terminal/v1``), named on every operation that needs it;
- the error shape as ``components/schemas/Error``, used by every error answer
  (FastAPI's own ``HTTPValidationError`` is dropped: it is never sent);
- status codes by rule (below) plus the per-operation table in
  ``openapi_table``, which also carries the non-JSON bodies and answers.

The rules: an operation with a bearer token answers 401 (and 403 for a
user's token); one with any input answers 400 and 422; one with a path
parameter answers 404; one with a request body answers 413 (body limits).
The schemathesis run in ``tests/integration/test_openapi_conformance.py``
holds the document to what the server really answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from lianbo.api.openapi_table import COMPONENTS, EXTRA, PUBLIC, REPLACE

Document = dict[str, Any]
Operation = dict[str, Any]

ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "stable, for programs"},
                "message": {"type": "string", "description": "for people"},
                "field": {"type": "string", "description": "the input at fault"},
            },
        }
    },
}
REASONS = {
    400: "Bad request: a value is not acceptable",
    401: "Missing, unknown or expired bearer token",
    403: "The caller's role or jurisdiction does not allow this",
    404: "Not found (or outside the caller's jurisdiction)",
    409: "Conflicts with the current state",
    410: "Used or expired",
    413: "Body over this endpoint's limit",
    415: "Unsupported content type",
    416: "Range not satisfiable; see Content-Range",
    422: "The request does not validate",
    423: "Locked: another request is writing to it",
    429: "Too many requests; see Retry-After",
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch")


def install(app: FastAPI) -> None:
    """Serve the described document (built once, on first request)."""

    def openapi() -> Document:
        if app.openapi_schema is None:
            generated = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = describe(generated)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def describe(document: Document) -> Document:
    """The generated ``document`` with auth, errors and non-JSON media added."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas["Error"] = ERROR_SCHEMA
    schemas.update(COMPONENTS)
    components["securitySchemes"] = {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "A user's token from POST /api/v1/auth/token on /api/v1; "
            "a screen's token from POST /terminal/v1/enrol on /terminal/v1.",
        }
    }
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                _operation(method, path, item[method])
    return document


def _operation(method: str, path: str, op: Operation) -> None:
    key = (method, path)
    op.update(REPLACE.get(key, {}))
    codes = set(EXTRA.get(key, ()))
    if key not in PUBLIC:
        op["security"] = [{"bearerAuth": []}]
        codes.add(401)
        if path.startswith("/api/"):
            codes.add(403)
    if op.get("parameters") or "requestBody" in op:
        codes |= {400, 422}
    if any(p.get("in") == "path" for p in op.get("parameters", [])):
        codes.add(404)
    if "requestBody" in op:
        codes.add(413)
    responses = op.setdefault("responses", {})
    for code in sorted(codes):
        responses[str(code)] = _error(code)
    if not codes and "422" in responses:  # FastAPI's, for an input-less route
        responses["422"] = _error(422)


def _error(code: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": REASONS[code],
        "content": {"application/json": {"schema": ERROR_REF}},
    }
    if code == 429:
        answer["headers"] = RETRY_AFTER
    return answer
