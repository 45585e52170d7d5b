"""/manifests/{audience_key}/{version}: published manifests, without a token.

The push names this URL (ADR 0024): every screen of an audience fetches the
same document at once, so it must come from a cache, not from this process
once per screen. A version is the sha256 of the manifest's content and the
body is signed, so the document is immutable and any HTTP cache (the nginx
edge of ``deploy/nginx/``, a CDN) may keep it for a year; a screen trusts it
only after checking the signature and that it is the version it was pushed.

The store answers an audience's current version only: a superseded one is
kept cut to the span it was in force, unsigned (ADR 0006), so it is no
longer a document a screen could verify. A screen asking for one (a newer
publish came between push and fetch) hears 404 and falls back to
``GET /terminal/v1/manifest``, and the newer version's push follows. A
version this process answered before stays answered from memory
(``ManifestCache.document``): it is immutable, and the edges hold it anyway.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request, Response

from lianbo.api.deps import ContainerDep
from lianbo.domain.assets import is_sha256
from lianbo.domain.errors import NotFound
from lianbo.protocol.messages import MANIFESTS_PATH

router = APIRouter(tags=["terminal"])

IMMUTABLE = "public, max-age=31536000, immutable"
AUDIENCE_KEY = re.compile(r"[0-9a-f]{32}")  # ``Audience.key()``


def envelope(body: str, signature: str, key_id: str, server_time: str | None = None) -> str:
    """``{"manifest", "signature", "key_id"}`` with the manifest embedded byte
    for byte as signed. ``server_time`` (JSON text) only on the authenticated
    route: the clock comes from heartbeats and the socket, never from a cache."""
    clock = "" if server_time is None else f',"server_time":{server_time}'
    return f'{{"manifest":{body},"signature":"{signature}","key_id":"{key_id}"{clock}}}'


@router.get(MANIFESTS_PATH + "/{audience_key}/{version}", operation_id="get_manifest_version")
async def manifest_version(
    audience_key: str, version: str, request: Request, container: ContainerDep
) -> Response:
    """One published version of an audience's signed manifest: immutable,
    cacheable by anyone; 404 unless it is the audience's current version."""
    if not AUDIENCE_KEY.fullmatch(audience_key) or not is_sha256(version):
        raise NotFound("no such manifest")
    etag = f'"{version}"'
    headers = {
        "Cache-Control": IMMUTABLE,
        "ETag": etag,
        # the web player may fetch it from an edge on another origin
        "Access-Control-Allow-Origin": "*",
    }
    cache = container.manifest_cache
    text = cache.document(audience_key, version)
    if text is None:
        async with container.uow() as uow:
            row = await uow.programming.manifest(audience_key)
        if row is None or row.version != version:
            raise NotFound("no such manifest")
        text = envelope(row.body, row.signature, row.key_id)
        cache.remember_document(audience_key, version, text)
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(text, media_type="application/json", headers=headers)
