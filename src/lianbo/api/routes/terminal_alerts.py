"""/terminal/v1/alerts: what a screen must show now, and its delivery acks."""

from __future__ import annotations

from fastapi import APIRouter

from lianbo.api.alert_schemas import AckIn, AckOut, TerminalAlerts
from lianbo.api.deps import ContainerDep, TerminalDep, UowDep
from lianbo.services import alert_terminal

router = APIRouter(prefix="/terminal/v1/alerts", tags=["terminal"])


@router.get("")
async def my_alerts(terminal: TerminalDep, container: ContainerDep, uow: UowDep) -> TerminalAlerts:
    """Active alerts whose area covers this screen (fetched on every
    (re)connect: guaranteed delivery), plus cancels it may still show."""
    found = await alert_terminal.for_terminal(container, uow, terminal)
    return TerminalAlerts(terminal=alert_terminal.terminal_facts(terminal), alerts=found)


@router.post("/{alert_id}/ack")
async def ack_alert(
    alert_id: str, body: AckIn, terminal: TerminalDep, container: ContainerDep, uow: UowDep
) -> AckOut:
    """Record how far an alert got on this screen (states only move forward)."""
    done = await alert_terminal.ack(
        container, uow, terminal, alert_id, body.state, body.reason, body.at
    )
    return AckOut(alert_id=done.alert_id, state=done.state, changed=done.changed)
