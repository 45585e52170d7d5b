"""The two ways an alert comes in: a CAP document (1.2, or 1.1), or a draft
written in lianbo's JSON API (docs/alerts.md).

Both become the same ``Alert`` and go through ``alerts.issue``; what differs
is the edges. A CAP 1.2 document is kept as sent when its text is honest
about its encoding (a 1.1 one as our 1.2 serialisation, so the export is
always 1.2), with the warnings reading it found; a JSON draft gets its
identifier and sender here, and a refusal names the JSON field, not the
CAP element, it came from. Each runs under the request's
``Idempotency-Key``: a retry gets the alert the first request made
(ADR 0015).
"""

from __future__ import annotations

import re

from lianbo.adapters.cap import CapReading, read_cap, to_cap_xml
from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.alerting.model import Reference
from lianbo.domain.errors import Conflict, DomainError, NotFound
from lianbo.domain.idempotency import Claim, Outcome
from lianbo.domain.users import Actor
from lianbo.services import cap_trust, idempotency
from lianbo.services.alert_compose import AlertDraft, compose
from lianbo.services.alert_identity import new_identifier
from lianbo.services.alert_reach import reach_of
from lianbo.services.alerts import Issued, issue, require_issuer
from lianbo.services.context import Context


async def issue_cap(
    container: Context, uow: UnitOfWork, actor: Actor, data: bytes, held: Claim | None = None
) -> Issued:
    """Import a CAP 1.2 document (kept byte for byte for export) or a CAP 1.1
    one (kept as 1.2)."""
    require_issuer(actor)

    async def act() -> Issued:
        reading = read_cap(data)
        signature = await cap_trust.checked(container, uow, data, reading)
        text = kept_text(data, reading)
        return await issue(
            container, uow, actor, reading.alert, text, held, reading.warnings, signature
        )

    return await idempotency.once(container, uow, held, act, _replayed)


async def _replayed(uow: UnitOfWork, outcome: Outcome) -> Issued:
    """The answer a repeated idempotency key gets: the alert its first request
    made (as it is now), with that request's status."""
    stored = await uow.alerts.get(outcome.resource_id)
    if stored is None:
        raise NotFound(f"no alert {outcome.resource_id}")
    reach = await reach_of(uow, stored)
    return Issued(stored, created=outcome.status == 201, replayed=True, reach=reach)


_UTF8_DECLARED = re.compile(r"""^\s*<\?xml[^>]*encoding=["']utf-?8["']""", re.IGNORECASE)


def kept_text(data: bytes, reading: CapReading) -> str:
    """The document as sent when it is CAP 1.2 in UTF-8 (declared so, or by
    default); otherwise our own 1.2 serialisation of it, so the export never
    lies about its encoding or version."""
    alert = reading.alert
    if reading.version != "1.2":
        return to_cap_xml(alert).decode("utf-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return to_cap_xml(alert).decode("utf-8")
    head = text.lstrip("\ufeff")[:200]
    declared = head.lstrip().startswith("<?xml") and "encoding=" in head.split("?>")[0]
    if declared and not _UTF8_DECLARED.match(head):
        return to_cap_xml(alert).decode("utf-8")
    return text


_JSON_FIELDS = (
    (re.compile(r"alert/info\[\d+\]/area\[\d+\]/geocode\[(\d+)\]"), "area.regions[{}]"),
    (re.compile(r"alert/info\[\d+\]/area\[\d+\]/polygon\[(\d+)\]"), "area.polygons[{}]"),
    (re.compile(r"alert/info\[\d+\]/area\[\d+\]/circle\[(\d+)\]"), "area.circles[{}]"),
)


def json_field(path: str | None) -> str | None:
    """A CAP element path as the JSON field it came from (0-based)."""
    if path is None:
        return None
    for pattern, form in _JSON_FIELDS:
        match = pattern.fullmatch(path)
        if match:
            return form.format(int(match.group(1)) - 1)
    if re.fullmatch(r"alert/info\[\d+\]/expires", path):
        return "expires_at"
    if re.fullmatch(r"alert/info\[\d+\]/onset", path):
        return "onset_at"
    return path


async def issue_json(
    container: Context,
    uow: UnitOfWork,
    actor: Actor,
    draft: AlertDraft,
    replaces: list[str],
    held: Claim | None = None,
) -> Issued:
    """An alert written in the JSON API; ``replaces`` makes it an Update.
    ``held``: the request's idempotency key (a retry gets the first alert)."""
    require_issuer(actor)
    return await idempotency.once(
        container,
        uow,
        held,
        lambda: _issue_json(container, uow, actor, draft, replaces, held),
        _replayed,
    )


async def _issue_json(
    container: Context,
    uow: UnitOfWork,
    actor: Actor,
    draft: AlertDraft,
    replaces: list[str],
    held: Claim | None,
) -> Issued:
    references = []
    for n, alert_id in enumerate(replaces):
        old = await uow.alerts.get(alert_id)
        if old is None or not actor.sees(old.region):
            raise Conflict(f"replaces an unknown alert: {alert_id}", field=f"replaces[{n}]")
        references.append(Reference(old.sender, old.identifier, old.sent))
    now = container.clock.now()
    alert = compose(
        draft,
        identifier=await new_identifier(container, uow, now),
        sender=container.settings.alert_sender,
        sent=now,
        references=tuple(references),
    )
    try:
        return await issue(container, uow, actor, alert, held=held)
    except DomainError as error:
        error.field = json_field(error.field)
        raise
