"""/api/v1/cap-senders: the CAP senders whose signatures we check, and how
(admin only; ADR 0027, docs/alerts.md "Signed messages")."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from lianbo.api.deps import ActorDep, ContainerDep, UowDep
from lianbo.api.text import Line, Text
from lianbo.services import cap_trust
from lianbo.services.cap_trust import MAX_CERTIFICATES, SenderView

router = APIRouter(prefix="/api/v1/cap-senders", tags=["alerts"])


class SenderIn(BaseModel):
    """The certificates (PEM) a sender's signatures are checked against,
    replacing any configured before, and whether it must sign."""

    certificates: list[Text] = Field(default_factory=list, max_length=MAX_CERTIFICATES)
    must_be_signed: bool = False


class SenderOut(BaseModel):
    sender: Line
    fingerprints: list[str]  # SHA-256 of each certificate, hex
    must_be_signed: bool

    @classmethod
    def of(cls, view: SenderView) -> SenderOut:
        return cls(
            sender=view.sender,
            fingerprints=list(view.fingerprints),
            must_be_signed=view.must_be_signed,
        )


@router.get("")
async def list_senders(actor: ActorDep, uow: UowDep) -> list[SenderOut]:
    return [SenderOut.of(v) for v in await cap_trust.listing(uow, actor)]


@router.put("/{sender}")
async def trust_sender(
    sender: str, body: SenderIn, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> SenderOut:
    view = await cap_trust.trust(
        container, uow, actor, sender, body.certificates, body.must_be_signed
    )
    return SenderOut.of(view)


@router.delete("/{sender}", status_code=204)
async def forget_sender(
    sender: str, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> Response:
    await cap_trust.forget(container, uow, actor, sender)
    return Response(status_code=204)
