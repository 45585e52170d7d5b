"""/terminal/v1: what screens call (enrolment, keys)."""

from __future__ import annotations

from fastapi import APIRouter

from lianbo.api.deps import ContainerDep, TerminalDep, UowDep
from lianbo.api.schemas import (
    EnrolRequest,
    EnrolResponse,
    HeartbeatReply,
    KeysResponse,
    PublicKeyOut,
)
from lianbo.services import presence, terminals

router = APIRouter(prefix="/terminal/v1", tags=["terminal"])


@router.post("/enrol")
async def enrol(body: EnrolRequest, container: ContainerDep, uow: UowDep) -> EnrolResponse:
    """Exchange a one-time enrolment code for the terminal's token."""
    done = await terminals.enrol(uow, container.clock, container.keys, body.code)
    return EnrolResponse(
        terminal_id=done.terminal_id,
        token=done.token,
        keys=[PublicKeyOut(key_id=k.key_id, public_key=k.public_key) for k in done.keys],
    )


@router.get("/keys")
async def keys(container: ContainerDep) -> KeysResponse:
    """The control centre's public keys, for manifest and alert signatures."""
    return KeysResponse(
        keys=[
            PublicKeyOut(key_id=k.key_id, public_key=k.public_key)
            for k in container.keys.public_keys()
        ]
    )


@router.post("/heartbeat")
async def heartbeat(terminal: TerminalDep, container: ContainerDep, uow: UowDep) -> HeartbeatReply:
    """A screen says it is alive; the reply carries server time and the interval."""
    now = await presence.record_heartbeat(uow, container.clock, terminal)
    return HeartbeatReply(server_time=now, heartbeat_seconds=container.settings.heartbeat_seconds)
