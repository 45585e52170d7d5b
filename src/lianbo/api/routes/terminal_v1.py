"""/terminal/v1: what screens call (enrolment, keys)."""

from __future__ import annotations

from fastapi import APIRouter

from lianbo.api.deps import ContainerDep, UowDep
from lianbo.api.schemas import EnrolRequest, EnrolResponse, KeysResponse, PublicKeyOut
from lianbo.services import terminals

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
