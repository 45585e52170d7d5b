"""Every endpoint's body limit, enforced while the body is read (413, error shape)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from lianbo.api import body_limits
from lianbo.domain.roles import Role
from tests.integration.monitoring.helpers import screen
from tests.support.env import PASSWORD, Env

CHUNK = 16 * 1024


class Chunked:
    """A body of ``total`` bytes sent in chunks (no Content-Length); ``sent``
    tells how much the server asked for."""

    def __init__(self, total: int, fill: bytes = b"x") -> None:
        self.total, self.fill, self.sent = total, fill, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < self.total:
            size = min(CHUNK, self.total - self.sent)
            self.sent += size
            yield self.fill * size


def too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "too_large"


# (path, limit, content type, who posts): small JSON limits keep the test quick.
JSON_LIMIT = 8 * 1024
FORM = "application/x-www-form-urlencoded"
CASES = [
    ("/api/v1/auth/token", body_limits.LOGIN_BYTES, "application/json", "nobody"),
    ("/login", body_limits.LOGIN_BYTES, FORM, "nobody"),
    ("/api/v1/terminals", JSON_LIMIT, "application/json", "nobody"),  # read before auth
    ("/api/v1/schedules", JSON_LIMIT, "application/json", "admin"),
    ("/regions", JSON_LIMIT, FORM, "console"),  # a console form
    ("/terminal/v1/enrol", body_limits.TERMINAL_BYTES, "application/json", "nobody"),
    ("/terminal/v1/playlog", JSON_LIMIT, "application/json", "terminal"),
    (
        "/api/v1/terminals/import",
        body_limits.CSV_MAX_BYTES + body_limits.FORM_SLACK,
        "text/csv",
        "admin",
    ),
    ("/api/v1/alerts/cap", body_limits.CAP_BYTES, "application/cap+xml", "admin"),
]


async def credentials(env: Env, who: str) -> dict[str, str]:
    """Headers (or a console session in the client's cookies) for ``who``."""
    if who == "nobody":
        return {}
    admin = await env.as_role(Role.ADMIN)
    if who == "terminal":
        return (await screen(env, admin))[1]
    if who == "console":
        user = await env.user(Role.ADMIN)
        signed = await env.client.post(
            "/login", data={"username": user.username, "password": PASSWORD}
        )
        assert signed.status_code == 303, signed.text
        return {}
    return admin


@pytest.mark.parametrize(("path", "limit", "kind", "who"), CASES, ids=[c[0] for c in CASES])
async def test_an_over_limit_body_is_refused_while_read(
    env: Env, path: str, limit: int, kind: str, who: str
) -> None:
    env.container.settings.max_json_bytes = JSON_LIMIT
    headers = await credentials(env, who) | {"Content-Type": kind}
    body = Chunked(limit * 4)
    too_large(await env.client.post(path, content=body, headers=headers))
    assert body.sent <= limit + CHUNK  # nothing read past the limit
    declared = headers | {"Content-Length": str(limit + 1)}
    unread = Chunked(limit + 1)
    too_large(await env.client.post(path, content=unread, headers=declared))
    assert unread.sent <= CHUNK  # at most what the transport sends unasked


async def test_a_body_at_the_limit_reaches_the_route(env: Env) -> None:
    fill = b" " * (body_limits.LOGIN_BYTES - 2)
    answer = await env.client.post(
        "/api/v1/auth/token",
        content=b"{" + fill + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 422, answer.text


async def test_a_screen_heartbeat_over_16_kb_is_refused_on_the_fast_path(env: Env) -> None:
    admin = await env.as_role(Role.ADMIN)
    _, terminal = await screen(env, admin)
    for _ in range(2):  # the route, then the fast path (token cached)
        body = Chunked(1024 * 1024, b" ")
        too_large(await env.client.post("/terminal/v1/heartbeat", content=body, headers=terminal))
        assert body.sent <= body_limits.MAX_STATUS_BYTES + CHUNK
    beat = await env.client.post("/terminal/v1/heartbeat", json={"ok": True}, headers=terminal)
    assert beat.status_code == 200, beat.text


async def test_a_json_body_is_held_to_the_json_limit_on_media_routes(env: Env) -> None:
    env.container.settings.max_json_bytes = JSON_LIMIT
    operator = await env.as_role(Role.OPERATOR, "51")
    body = Chunked(JSON_LIMIT * 4)
    headers = operator | {"Content-Type": "application/json"}
    too_large(await env.client.post("/api/v1/assets", content=body, headers=headers))
    assert body.sent <= JSON_LIMIT + CHUNK


def test_the_limit_table() -> None:
    settings = body_limits.Settings(max_json_bytes=4096, max_upload_bytes=10**9)
    limit = body_limits.limit_for
    assert limit("/api/v1/uploads/abc", "application/offset+octet-stream", settings) > 10**9
    assert limit("/assets/uploads/abc", "application/offset+octet-stream", settings) > 10**9
    assert limit("/api/v1/users", "application/json", settings) == 4096
    assert limit("/terminal/v1/alerts/a1/ack", "", settings) == body_limits.TERMINAL_BYTES
    assert limit("/api/v1/assets", "application/json", settings) == 4096
