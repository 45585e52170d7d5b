"""Signed CAP: checking an arriving message's signature against the senders
an admin trusts, and keeping that list (ADR 0027, docs/alerts.md "Signed
messages").

The list lives in the store and is read on every import, so a change made
through one process holds on every other at once. Each change is a control
act in the audit log (``cap_sender.trust`` / ``cap_sender.forget``); the log
keeps each certificate's fingerprint, not its text.
"""

from __future__ import annotations

from dataclasses import dataclass

from lianbo.adapters.cap import CapReading
from lianbo.adapters.cap.dsig import check_signature, fingerprint
from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.alerting.signatures import (
    UNSIGNED,
    SenderTrust,
    SignatureCheck,
    refusal,
)
from lianbo.domain.errors import Forbidden, InvalidInput, NotFound
from lianbo.domain.roles import Permission
from lianbo.domain.text import refused_character
from lianbo.domain.users import Actor
from lianbo.services import audit
from lianbo.services.context import Context

MAX_CERTIFICATES = 8  # a sender's current and next certificates, with room to spare
_MAX_PEM = 16 * 1024


@dataclass(frozen=True, slots=True)
class SenderView:
    """A configured sender as an admin sees it: fingerprints, not PEM."""

    sender: str
    fingerprints: tuple[str, ...]
    must_be_signed: bool


async def checked(
    container: Context, uow: UnitOfWork, data: bytes, reading: CapReading
) -> SignatureCheck:
    """The message's signature checked against its sender's trusted
    certificates; raises Forbidden when its sender must sign and it is not
    verified."""
    trust = await uow.cap_senders.get(reading.alert.sender)
    if not reading.signed:
        check = UNSIGNED
    else:
        certificates = trust.certificates if trust else ()
        check = check_signature(data, certificates, container.clock.now())
    reason = refusal(check, trust)
    if reason is not None:
        raise Forbidden(
            f"sender {reading.alert.sender} must sign its messages; "
            f"this one's signature is {check.state.value} ({reason.value})",
            field="alert/Signature",
        )
    return check


def _require_admin(actor: Actor) -> None:
    if not actor.can(Permission.MANAGE_KEYS):
        raise Forbidden("only an admin configures trusted CAP senders")


def _checked_sender(sender: str) -> str:
    sender = sender.strip()
    if not sender or len(sender) > 255 or refused_character(sender) is not None:
        raise InvalidInput("sender must be 1-255 printable characters", field="sender")
    if any(c.isspace() or c in ",<&" for c in sender):  # CAP forbids them in a sender
        raise InvalidInput("sender may not contain spaces, commas, < or &", field="sender")
    return sender


def _checked_certificates(certificates: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(PEM texts, their fingerprints); each must be one X.509 certificate."""
    if len(certificates) > MAX_CERTIFICATES:
        raise InvalidInput(
            f"at most {MAX_CERTIFICATES} certificates per sender", field="certificates"
        )
    prints = []
    for n, pem in enumerate(certificates):
        field = f"certificates[{n}]"
        if len(pem) > _MAX_PEM:
            raise InvalidInput("a certificate of more than 16 KB is refused", field=field)
        try:
            prints.append(fingerprint(pem))
        except ValueError:
            raise InvalidInput("not a PEM X.509 certificate", field=field) from None
    return tuple(pem.strip() + "\n" for pem in certificates), tuple(prints)


async def trust(
    container: Context,
    uow: UnitOfWork,
    actor: Actor,
    sender: str,
    certificates: list[str],
    must_be_signed: bool,
) -> SenderView:
    """Configure ``sender``: the certificates its signatures are checked
    against (replacing any before), and whether it must sign."""
    _require_admin(actor)
    sender = _checked_sender(sender)
    pems, prints = _checked_certificates(certificates)
    if must_be_signed and not pems:
        raise InvalidInput(
            "a sender that must sign needs at least one certificate", field="certificates"
        )
    before = await uow.cap_senders.get(sender)
    now = container.clock.now()
    await uow.cap_senders.put(SenderTrust(sender, pems, must_be_signed), now, actor.username)
    view = SenderView(sender, prints, must_be_signed)
    await audit.record(
        uow,
        container.clock,
        actor,
        "cap_sender.trust",
        ("cap_sender", sender),
        region=actor.jurisdiction,
        before=_facts(_view(before)) if before else None,
        after=_facts(view),
    )
    await uow.commit()
    return view


async def forget(container: Context, uow: UnitOfWork, actor: Actor, sender: str) -> None:
    """Stop trusting ``sender``: its messages are checked against nothing."""
    _require_admin(actor)
    before = await uow.cap_senders.get(sender)
    if before is None or not await uow.cap_senders.remove(sender):
        raise NotFound(f"no trusted CAP sender {sender}")
    await audit.record(
        uow,
        container.clock,
        actor,
        "cap_sender.forget",
        ("cap_sender", sender),
        region=actor.jurisdiction,
        before=_facts(_view(before)),
    )
    await uow.commit()


async def listing(uow: UnitOfWork, actor: Actor) -> list[SenderView]:
    """Every configured sender."""
    _require_admin(actor)
    return [_view(t) for t in await uow.cap_senders.all()]


def _view(trust: SenderTrust) -> SenderView:
    return SenderView(
        trust.sender, tuple(fingerprint(p) for p in trust.certificates), trust.must_be_signed
    )


def _facts(view: SenderView) -> dict[str, object]:
    return {"fingerprints": list(view.fingerprints), "must_be_signed": view.must_be_signed}
