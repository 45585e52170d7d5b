"""The manifest poll fast path: answer "nothing changed" before routing.

Screens poll ``GET /terminal/v1/manifest`` with ``If-None-Match``, and
nearly every poll is a 304. When this process's cache knows the token and
the audience's current version, the 304 is sent here, without routing,
dependency injection or a database round trip. Anything else (cache miss,
changed version, bad token) falls through to the real route, which has
the same semantics.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from lianbo.domain.tokens import digest
from lianbo.services.manifest_cache import ManifestCache

PATH = "/terminal/v1/manifest"


class ManifestFastPath:
    def __init__(self, app: ASGIApp, cache: ManifestCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "GET":
            etag = self._current_etag(scope)
            if etag is not None:
                await send(
                    {"type": "http.response.start", "status": 304, "headers": [(b"etag", etag)]}
                )
                await send({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send)

    def _current_etag(self, scope: Scope) -> bytes | None:
        authorization = if_none_match = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"if-none-match":
                if_none_match = value
        if not if_none_match or not authorization.lower().startswith(b"bearer "):
            return None
        holder = self.cache.terminal(digest(authorization[7:].strip().decode("latin-1")))
        version = self.cache.version(holder.audience_key) if holder else None
        if version is None:
            return None
        etag = f'"{version}"'.encode()
        return etag if etag in if_none_match else None
