"""/terminal/v1: what screens call (enrolment, keys)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from lianbo.adapters.fleet import topics
from lianbo.api.deps import ContainerDep, UowDep, bearer_token
from lianbo.api.routes import fleet_ws
from lianbo.api.routes.manifest_versions import envelope
from lianbo.api.schemas import (
    EnrolRequest,
    EnrolResponse,
    HeartbeatReply,
    KeysResponse,
    PublicKeyOut,
)
from lianbo.config import Settings
from lianbo.domain.errors import InvalidInput, TooLarge, Unauthorized, Unprocessable
from lianbo.domain.targeting import Audience
from lianbo.domain.text import refusal, refused_in_json
from lianbo.domain.tokens import digest
from lianbo.protocol import json_input
from lianbo.services import manifests, terminals
from lianbo.services.context import UnitOfWork
from lianbo.services.manifest_cache import Holder

router = APIRouter(prefix="/terminal/v1", tags=["terminal"])


class KeySignatureOut(BaseModel):
    key_id: str
    signature: str  # Ed25519 over the key set's text, base64


class SignedKeys(BaseModel):
    # The signed key set (protocol/keyset.py): the canonical JSON text, and
    # signatures by keys screens may have pinned. ``keys`` stays for old players.
    key_set: str
    signatures: list[KeySignatureOut]


class KeysReply(KeysResponse, SignedKeys):
    pass


class EnrolReply(EnrolResponse, SignedKeys):
    # Where the screen listens for pushes: the hub or the MQTT broker.
    push: dict[str, object]


async def signed_keys(container: ContainerDep, uow: UnitOfWork | None = None) -> dict[str, Any]:
    """``key_set`` and ``signatures`` of the current signed key set."""
    text, signatures = await container.keys.key_set(uow)
    return {
        "key_set": text,
        "signatures": [
            KeySignatureOut(key_id=k, signature=v) for k, v in sorted(signatures.items())
        ],
    }


def push_route(settings: Settings, terminal_id: str) -> dict[str, object]:
    """The push channel a screen uses (docs/player.md). For MQTT the topics
    come from the server, so the player never carries their layout."""
    if settings.fleet == "hub":
        return {"channel": "hub", "path": fleet_ws.PATH}
    brokers = mqtt_brokers(settings, terminal_id)
    return {
        "channel": "mqtt",
        "host": brokers[0]["host"],
        "port": brokers[0]["port"],
        "brokers": brokers,  # every node of a broker cluster, tried in turn
        "topics": {
            "push": topics.terminal(terminal_id),
            "up": topics.terminal(terminal_id, topics.UP),
            "status": topics.terminal(terminal_id, topics.STATUS),
            "region": topics.region("{code}"),  # for its region and each ancestor
            "audience": topics.audience("{key}"),  # key: the audience's key
        },
        "online": topics.ONLINE.decode(),  # retained on "status"; "offline" is the will
        "offline": topics.OFFLINE.decode(),
    }


def mqtt_brokers(settings: Settings, terminal_id: str) -> list[dict[str, object]]:
    """The MQTT listeners a screen may use, first choice first: a cluster's
    nodes start at a different one per screen, so screens spread over them."""
    if not settings.mqtt_public_brokers:
        host = settings.mqtt_public_host or settings.mqtt_host
        return [{"host": host, "port": settings.mqtt_public_port or settings.mqtt_port}]
    found: list[dict[str, object]] = []
    for address in settings.mqtt_public_brokers:
        host, _, port = address.rpartition(":")
        found.append({"host": host, "port": int(port)})
    start = int(hashlib.sha256(terminal_id.encode()).hexdigest()[:8], 16) % len(found)
    return found[start:] + found[:start]


@router.post("/enrol")
async def enrol(body: EnrolRequest, container: ContainerDep, uow: UowDep) -> EnrolReply:
    """Exchange a one-time enrolment code for the terminal's token."""
    done = await terminals.enrol(uow, container.clock, container.keys, body.code)
    terminal = await uow.terminals.get(done.terminal_id)
    assert terminal is not None  # enrol just checked it exists
    return EnrolReply(
        terminal_id=done.terminal_id,
        token=done.token,
        keys=[PublicKeyOut(key_id=k.key_id, public_key=k.public_key) for k in done.keys],
        audience=Audience.of(terminal).as_json(),
        push=push_route(container.settings, done.terminal_id),
        **(await signed_keys(container, uow)),
    )


@router.get("/keys")
async def keys(container: ContainerDep) -> KeysReply:
    """The control centre's public keys and the signed key set: a screen
    adopts a set only when a key it already trusts signed it (ADR 0004)."""
    return KeysReply(
        keys=[
            PublicKeyOut(key_id=k.key_id, public_key=k.public_key)
            for k in await container.keys.public_keys()
        ],
        **(await signed_keys(container)),
    )


@router.post("/heartbeat")
async def heartbeat(request: Request, container: ContainerDep) -> HeartbeatReply:
    """A screen says it is alive, with an optional status object
    (``protocol.reports.STATUS_KEYS``); the reply carries server time and
    the interval. Stored in batches (``services.monitoring``); 429 on a flood."""
    caller = await container.monitor.callers.caller(container, bearer_token(request))
    status = await status_body(request)
    now = await container.monitor.heartbeat(caller.screen.id, status)
    return HeartbeatReply(
        server_time=now,
        heartbeat_seconds=container.settings.heartbeat_seconds,
        audience=caller.audience,
    )


@router.get("/manifest")
async def manifest(request: Request, container: ContainerDep) -> Response:
    """The signed manifest for this screen; 304 when ``If-None-Match`` is current.

    The body is ``{"manifest": ..., "signature": ..., "key_id": ...,
    "server_time": ...}`` where ``manifest`` is embedded byte for byte as
    signed (canonical JSON), so verifying needs no re-serialisation.
    A poll that changes nothing is answered from memory (see manifest_cache).
    """
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("missing terminal token")
    cache = container.manifest_cache
    holder = cache.terminal(digest(token))
    if holder is None:
        holder = await _holder(container, token)
    version = cache.version(holder.audience_key)
    if version is not None and f'"{version}"' in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers={"ETag": f'"{version}"'})
    async with container.uow() as uow:
        row = await uow.programming.manifest(holder.audience_key)
    if row is None:
        await manifests.rebuild(container, {holder.audience_key})
        async with container.uow() as uow:
            row = await uow.programming.manifest(holder.audience_key)
        assert row is not None
    cache.remember_version(holder.audience_key, row.version)
    etag = f'"{row.version}"'
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers={"ETag": etag})
    now = json.dumps(container.clock.now().isoformat())
    content = envelope(row.body, row.signature, row.key_id, server_time=now)
    return Response(
        content, media_type="application/json", headers={"ETag": etag, "Cache-Control": "no-cache"}
    )


async def _holder(container: ContainerDep, token: str) -> Holder:
    token_hash = digest(token)
    async with container.uow() as uow:
        terminal = await uow.terminals.by_token_hash(token_hash)
    if terminal is None:
        raise Unauthorized("unknown or revoked terminal token")
    holder = Holder(terminal.id, Audience.of(terminal).key())
    container.manifest_cache.remember_terminal(token_hash, holder)
    return holder


MAX_STATUS_BYTES = 16 * 1024


async def status_body(request: Request) -> dict[str, Any] | None:
    """The heartbeat's status object; ``None`` for an empty body."""
    raw = await request.body()
    if not raw:
        return None
    if len(raw) > MAX_STATUS_BYTES:
        raise TooLarge(f"a status report is at most {MAX_STATUS_BYTES} bytes")
    try:
        status = json_input.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("a status report is a JSON object") from None
    if not isinstance(status, dict):
        raise InvalidInput("a status report is a JSON object")
    refused = refused_in_json(status)
    if refused is not None:
        field = f"status.{refused[0]}"
        raise Unprocessable(refusal(field, refused[1]), field=field)
    return status
