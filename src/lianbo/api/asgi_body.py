"""Request bodies and JSON answers at the ASGI level, for the fast paths
that answer before routing (``heartbeat_fastpath``, ``screenshot_fastpath``)
and hand anything unusual to the real route with the body replayed."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Message, Receive, Send


async def read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The body, and False when it grew past ``limit`` (the rest left unread)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks), False
        if not message.get("more_body", False):
            return b"".join(chunks), True


def replay(body: bytes, receive: Receive, complete: bool) -> Receive:
    """A ``receive`` that first hands back what was already read."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not complete}
        return await receive()

    return again


async def answer_json(
    send: Send,
    status: int,
    payload: dict[str, Any],
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> None:
    """A JSON response, sent directly."""
    data = json.dumps(payload, ensure_ascii=False).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": head + list(headers)})
    await send({"type": "http.response.body", "body": data})
