"""/terminal/v1/alerts: what a screen must show now, and its delivery acks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request

from lianbo.api.alert_schemas import AckIn, AckOut, TerminalAlerts
from lianbo.api.deps import ContainerDep, TerminalDep, UowDep, bearer_token
from lianbo.domain.tokens import digest
from lianbo.services import alert_terminal
from lianbo.services.alert_acks import Closing

router = APIRouter(prefix="/terminal/v1/alerts", tags=["terminal"])


@router.get("")
async def my_alerts(terminal: TerminalDep, container: ContainerDep, uow: UowDep) -> TerminalAlerts:
    """Active alerts whose area covers this screen (fetched on every
    (re)connect: guaranteed delivery), plus cancels it may still show."""
    found = await alert_terminal.for_terminal(container, uow, terminal)
    return TerminalAlerts(terminal=alert_terminal.terminal_facts(terminal), alerts=found)


async def screen_id(request: Request, container: ContainerDep) -> str:
    """The screen behind the token, from the token cache the manifest and
    report routes use (a retirement or re-enrolment forgets it on every
    process): a screen that fetched its manifest acks without a read. Unlike
    ``TerminalDep`` it holds no unit of work (no pooled connection) while
    the ack waits for its batch."""
    token = bearer_token(request)
    holder = container.manifest_cache.terminal(digest(token)) if token else None
    if holder is not None:
        return holder.terminal_id
    caller = await container.monitor.callers.caller(container, token)
    return caller.screen.id


@router.post("/{alert_id}/ack")
async def ack_alert(
    alert_id: str,
    body: AckIn,
    terminal_id: Annotated[str, Depends(screen_id)],
    container: ContainerDep,
) -> AckOut:
    """Record how far an alert got on this screen (states only move forward).

    Written in a batch with other screens' acks (``services/alert_acks``),
    answered once that batch commits. ``at`` is the screen's clock: not used."""
    try:
        done = await container.acks.ack(terminal_id, alert_id, body.state, body.reason)
    except Closing:
        raise HTTPException(503, "shutting down: ack again", {"Retry-After": "1"}) from None
    return AckOut(alert_id=done.alert_id, state=done.state, changed=done.changed)
