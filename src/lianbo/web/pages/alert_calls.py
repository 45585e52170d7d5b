"""What the alert pages ask of the alert service, in one place.

The console goes through the same services as the JSON API
(``services.alert_intake`` to issue, ``services.alerts`` for other acts,
``services.alert_reads`` for the board), so permission, jurisdiction, the
two-person rule and the audit entries are the service's; the form body is
checked by the API's own schema.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from lianbo.api.alert_schemas import AlertCreate
from lianbo.bootstrap import Container
from lianbo.domain.alerting.records import Delivery, StoredAlert
from lianbo.domain.canonical import canonical_json
from lianbo.domain.errors import InvalidInput
from lianbo.domain.roles import Permission
from lianbo.domain.users import Actor
from lianbo.services import alert_intake, alert_reads, alerts, idempotency
from lianbo.services.alert_reads import Board
from lianbo.services.context import UnitOfWork

MAP_DELIVERIES = 20_000


def can_issue(actor: Actor) -> bool:
    """Issuers (and admins) compose, confirm and cancel alerts."""
    return actor.can(Permission.ISSUE_ALERTS)


async def list_alerts(
    uow: UnitOfWork, actor: Actor, *, limit: int, offset: int
) -> tuple[list[StoredAlert], int]:
    """Alerts issued inside the jurisdiction, newest first."""
    return await alert_reads.list_alerts(uow, actor, None, limit=limit, offset=offset)


async def board(uow: UnitOfWork, actor: Actor, alert_id: str) -> Board:
    """The alert with counts and latency; NotFound outside the jurisdiction."""
    return await alert_reads.board(uow, actor, alert_id)


async def progress(uow: UnitOfWork, actor: Actor, alert_id: str) -> dict[str, Any]:
    """Delivery states counted by tier and by region."""
    return await alert_reads.progress(uow, actor, alert_id)


async def deliveries(
    uow: UnitOfWork, actor: Actor, alert_id: str, states: list[str], limit: int
) -> tuple[list[Delivery], int]:
    """Delivery rows in ``states`` (all states when empty)."""
    return await alert_reads.deliveries(
        uow, actor, alert_id, states, tier=None, region=None, limit=limit, offset=0
    )


async def delivery_states(uow: UnitOfWork, actor: Actor, alert_id: str) -> dict[str, str]:
    """terminal id → delivery state, for the map."""
    found, _ = await deliveries(uow, actor, alert_id, [], MAP_DELIVERIES)
    return {d.terminal_id: d.state for d in found}


def checked(body: dict[str, Any]) -> AlertCreate:
    """The body through the API's schema; its first complaint as InvalidInput."""
    try:
        return AlertCreate.model_validate(body)
    except ValidationError as problem:
        first = problem.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"{where}: {first['msg']}", field=where) from None


async def issue(
    uow: UnitOfWork,
    container: Container,
    actor: Actor,
    body: dict[str, Any],
    key: str | None = None,
) -> str:
    """Issue an alert from the JSON API body; its id. ``key``: the form's
    idempotency key, so a second submit of one form gets the first alert."""
    create = checked(body)
    payload = canonical_json(create.model_dump(mode="json"))
    held = idempotency.claim(key, actor, "alert.issue", payload)
    issued = await alert_intake.issue_json(container, uow, actor, create.draft(), [], held)
    return issued.alert.id


async def confirm(uow: UnitOfWork, container: Container, actor: Actor, alert_id: str) -> None:
    """A second issuer confirms a pending alert (two-person rule)."""
    await alerts.confirm(container, uow, actor, alert_id)


async def cancel(uow: UnitOfWork, container: Container, actor: Actor, alert_id: str) -> None:
    """Cancel an active or pending alert."""
    await alerts.cancel(container, uow, actor, alert_id)
