"""Commands to one screen over the fleet channel (screenshot, reload,
restart), and what the screen last said about itself.

Sending a command is a control act: checked against the sender's role and
jurisdiction, audited (the audit entry is the record of what was sent),
stored with it (``terminal_commands``), then pushed best effort, at most
once, like every push (``CommandSent``: each process pushes to the screens
on its own sockets; with a broker, the committing process publishes). The
process that hands it to the screen's connection marks it delivered; the
player answers with an ``ack`` message, which the process that hears it
writes to the store (``CommandAcks``). Whichever process the console asks
reads both from the store.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from datetime import datetime

import structlog

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.commands import SentCommand
from lianbo.domain.errors import Conflict, Forbidden, InvalidInput
from lianbo.domain.events import CommandSent
from lianbo.domain.ports import Clock, FleetChannel
from lianbo.domain.roles import Permission
from lianbo.domain.terminals import StatusReport, TerminalStatus
from lianbo.domain.users import Actor
from lianbo.protocol.messages import COMMANDS, command
from lianbo.services import audit
from lianbo.services.terminals import get_terminal

__all__ = ["CommandAcks", "SentCommand", "latest_status", "recent_commands", "send_command"]

log = structlog.get_logger()

ACTION = "terminal.command"
RECENT = 5  # commands shown on a terminal's page
KEPT = 50  # commands kept per terminal (every one stays in the audit log)
ACKS_PENDING = 10_000  # acks waiting for the store, at most (more are dropped)
RETRY_S = 1.0  # while the store is away, acks wait this long between tries
SETTLE_S = 5.0  # how long a stopping channel waits for its acks to be stored
_ID = re.compile(r"[0-9a-f]{32}")  # what send_command makes: anything else is no command


async def send_command(
    uow: UnitOfWork,
    fleet: FleetChannel,
    clock: Clock,
    actor: Actor,
    terminal_id: str,
    name: str,
) -> SentCommand:
    """Audit and store, then push ``name`` to the terminal. ``delivered``
    says whether the screen is connected (to this process, or to the
    broker) and the push handed to its connection (not that it carried it
    out: that is the ack)."""
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
    # Stored undelivered: the process that hands it over says so (push_command).
    await uow.commands.add(
        terminal_id, SentCommand(command_id, name, entry.at, actor.username), keep=KEPT
    )
    # recorded before it goes out (no unaudited command); the process that
    # holds the screen's connection pushes it once this commits
    uow.record(CommandSent(terminal_id, command_id, name))
    await uow.commit()
    delivered = terminal_id in fleet.online()  # held by this process (or the broker)
    return SentCommand(command_id, name, entry.at, actor.username, delivered)


async def push_command(
    uows: Callable[[], UnitOfWork], fleet: FleetChannel, event: CommandSent
) -> bool:
    """Push a sent command to its screen; when this process (or its broker)
    has the screen, mark it delivered in the store. Whether it did."""
    held = event.terminal_id in fleet.online()
    sent = await fleet.send([event.terminal_id], command(event.command_id, event.command))
    if not (held and sent):
        return False
    async with uows() as uow:
        await uow.commands.delivered(event.command_id)
        await uow.commit()
    return True


async def recent_commands(
    uow: UnitOfWork, terminal_id: str, limit: int = RECENT
) -> list[SentCommand]:
    """The last commands sent to a terminal (one the caller was allowed to
    see: look it up with ``get_terminal`` first), newest first, with when
    it acknowledged them, whichever process heard it."""
    return await uow.commands.recent(terminal_id, limit)


async def latest_status(uow: UnitOfWork, terminal_id: str) -> StatusReport | None:
    """The newest status report of a terminal, over HTTP or pushed up the
    channel to any process (both go through the heartbeat path to the store,
    newest wins)."""
    return await uow.reports.latest(terminal_id)


class CommandAcks:
    """Writes the acks screens send up the fleet channel to the store
    (``adapters.fleet.inbox.Acks``): the reader hands one over without
    waiting; one background task writes what has gathered, in one statement
    per batch. While the store is away they wait (up to ``ACKS_PENDING``)
    and are tried again."""

    def __init__(self, uows: Callable[[], UnitOfWork]) -> None:
        self._uows = uows
        self._pending: dict[tuple[str, str], datetime] = {}
        self._writer: asyncio.Task[None] | None = None
        self._failing = False
        self._dropping = False

    def ack(self, terminal_id: str, command_id: str, at: datetime) -> None:
        """Take one ack (``terminal_id`` is the connection's own) to store."""
        if not _ID.fullmatch(command_id):
            return
        if len(self._pending) >= ACKS_PENDING:
            if not self._dropping:  # once until the backlog is written
                log.warning("command acknowledgements dropped: too many waiting")
            self._dropping = True
            return
        self._pending.setdefault((terminal_id, command_id), at)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())

    async def settle(self) -> None:
        """Wait until the acks taken so far are written; after ``SETTLE_S``
        (the store away while the channel stops) drop what is left, logged."""
        writer = self._writer
        if writer is None or writer.done():
            return
        try:
            async with asyncio.timeout(SETTLE_S):
                await asyncio.shield(writer)
        except TimeoutError:
            writer.cancel()
            log.warning("command acknowledgements dropped at stop", dropped=len(self._pending))

    async def _write(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, {}
            try:
                async with self._uows() as uow:
                    await uow.commands.acked([(t, c, at) for (t, c), at in batch.items()])
                    await uow.commit()
            except Exception as error:
                if not self._failing:  # once per outage, not per try
                    log.warning("command acknowledgements not stored yet", error=str(error))
                self._failing = True
                self._pending = self._pending | batch  # the first ack stands
                await asyncio.sleep(RETRY_S)
                continue
            if self._failing:
                log.info("command acknowledgements stored again")
            self._failing = self._dropping = False
