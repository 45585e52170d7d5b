"""A client that goes away mid-upload: a client abort, not a server error."""

from __future__ import annotations

from typing import Any

import structlog
from starlette.types import Message

from lianbo.api.app import create_app
from lianbo.api.metrics import REQUESTS_REGISTRY
from lianbo.domain.roles import Role
from tests.support.env import Env

ROUTE = "/api/v1/uploads/{upload_id}"


def counted(name: str, **labels: str) -> float:
    return REQUESTS_REGISTRY.get_sample_value(name, labels) or 0.0


async def patch_then_vanish(env: Env, url: str, headers: dict[str, str]) -> list[Message]:
    """A PATCH whose client sends three bytes and then disconnects."""
    messages: list[Message] = [
        {"type": "http.request", "body": b"abc", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    head = headers | {
        "Host": "lianbo.test",
        "Tus-Resumable": "1.0.0",
        "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream",
    }
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PATCH",
        "scheme": "http",
        "path": url,
        "raw_path": url.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in head.items()],
        "client": ("203.0.113.7", 50000),
        "server": ("lianbo.test", 80),
    }
    await create_app(container=env.container)(scope, receive, send)
    return sent


async def test_a_client_gone_mid_upload_is_logged_once_and_counted_apart(env: Env) -> None:
    operator = await env.as_role(Role.OPERATOR, "51")
    created = await env.client.post(
        "/api/v1/uploads", headers=operator | {"Tus-Resumable": "1.0.0", "Upload-Length": "10"}
    )
    url = created.headers["location"]
    labels = {"method": "PATCH", "route": ROUTE}
    errors = counted("lianbo_http_requests_total", **labels, status="500")
    aborts = counted("lianbo_http_client_aborts_total", **labels)
    with structlog.testing.capture_logs() as logs:
        sent = await patch_then_vanish(env, url, operator)
    assert sent[0]["status"] == 499
    assert [entry["event"] for entry in logs] == ["client aborted"]
    assert logs[0]["log_level"] == "info" and "exc_info" not in logs[0]
    assert counted("lianbo_http_requests_total", **labels, status="500") == errors
    assert counted("lianbo_http_client_aborts_total", **labels) == aborts + 1
    # What arrived before the break is kept: the upload resumes from there.
    head = await env.client.head(url, headers=operator | {"Tus-Resumable": "1.0.0"})
    assert head.headers["upload-offset"] == "3"
