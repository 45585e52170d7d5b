"""Commands to one screen over the fleet channel (screenshot, reload,
restart), and what the screen last said about itself.

Sending a command is a control act: checked against the sender's role and
jurisdiction, audited (the audit entry is the record of what was sent),
then pushed best effort, at most once, like every push (``CommandSent``:
each process pushes to the screens on its own sockets; with a broker, the
committing process publishes). The player answers
with an ``ack`` message; the process holding the screen's connection keeps
when it came (``adapters/fleet/inbox.py``), so the console can show it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.audit import AuditQuery
from lianbo.domain.errors import Conflict, Forbidden, InvalidInput
from lianbo.domain.events import CommandSent
from lianbo.domain.ports import Clock, FleetChannel
from lianbo.domain.roles import Permission
from lianbo.domain.terminals import StatusReport, TerminalStatus
from lianbo.domain.users import Actor
from lianbo.protocol.messages import COMMANDS
from lianbo.services import audit
from lianbo.services.terminals import get_terminal

ACTION = "terminal.command"
RECENT = 5  # commands shown on a terminal's page


class PushedStatus(Protocol):
    received_at: float
    body: dict[str, Any]


@runtime_checkable
class FleetInbox(Protocol):
    """What both fleet channels offer beyond the port: what screens sent up
    it to this process (acks, ``status`` messages), kept in memory."""

    def acked(self, terminal_id: str, command_id: str) -> float | None: ...

    def status(self, terminal_id: str) -> PushedStatus | None: ...


@dataclass(frozen=True, slots=True)
class SentCommand:
    id: str
    command: str
    sent_at: datetime
    actor: str
    delivered: bool | None = None  # known when just sent; None from history
    acked_at: datetime | None = None


async def send_command(
    uow: UnitOfWork,
    fleet: FleetChannel,
    clock: Clock,
    actor: Actor,
    terminal_id: str,
    name: str,
) -> SentCommand:
    """Audit, then push ``name`` to the terminal. ``delivered`` says whether
    the screen was connected and the push handed to its connection (not
    that it carried it out: that is the ack)."""
    if not actor.can(Permission.MANAGE_TERMINALS):
        raise Forbidden("sending commands to terminals needs the operator or admin role")
    terminal = await get_terminal(uow, actor, terminal_id)
    if name not in COMMANDS:
        raise InvalidInput(
            f"unknown command {name[:40]!r}: one of {', '.join(COMMANDS)}", field="command"
        )
    if terminal.status is TerminalStatus.RETIRED:
        raise Conflict("a retired terminal takes no commands")
    command_id = uuid.uuid4().hex
    entry = await audit.record(
        uow,
        clock,
        actor,
        ACTION,
        ("terminal", terminal_id),
        region=terminal.region,
        after={"id": command_id, "command": name},
    )
    # recorded before it goes out (no unaudited command); the process that
    # holds the screen's connection pushes it once this commits
    uow.record(CommandSent(terminal_id, command_id, name))
    await uow.commit()
    delivered = terminal_id in fleet.online()  # held by this process (or the broker)
    return SentCommand(command_id, name, entry.at, actor.username, delivered)


async def recent_commands(
    uow: UnitOfWork, fleet: FleetChannel, terminal_id: str, limit: int = RECENT
) -> list[SentCommand]:
    """The last commands sent to a terminal (one the caller was allowed to
    see: look it up with ``get_terminal`` first), newest first, with the
    acknowledgement time where this process saw it."""
    query = AuditQuery(action=ACTION, target_id=terminal_id)
    entries, _ = await uow.audit.search(query, limit=limit, offset=0)
    sent = []
    for entry in entries:
        after = entry.after or {}
        command_id = str(after.get("id", ""))
        sent.append(
            SentCommand(
                command_id,
                str(after.get("command", "")),
                entry.at,
                entry.actor,
                acked_at=acked_at(fleet, terminal_id, command_id),
            )
        )
    return sent


def acked_at(fleet: FleetChannel, terminal_id: str, command_id: str) -> datetime | None:
    """When the terminal acknowledged the command, if this process saw it."""
    if not isinstance(fleet, FleetInbox):
        return None
    at = fleet.acked(terminal_id, command_id)
    return datetime.fromtimestamp(at, UTC) if at is not None else None


async def latest_status(
    uow: UnitOfWork, fleet: FleetChannel, terminal_id: str
) -> StatusReport | None:
    """The newest status report of a terminal: the one stored from its last
    heartbeat, or a fresher one it pushed up the channel to this process."""
    stored = await uow.reports.latest(terminal_id)
    pushed = fleet.status(terminal_id) if isinstance(fleet, FleetInbox) else None
    if pushed is None or pushed.body.get("truncated"):
        return stored
    at = datetime.fromtimestamp(pushed.received_at, UTC)
    if stored is not None and stored.reported_at >= at:
        return stored
    return StatusReport(terminal_id, at, dict(pushed.body))
