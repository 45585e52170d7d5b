"""API shapes for commands to terminals (screenshot, reload, restart)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from lianbo.api.schemas import Strict
from lianbo.api.text import Line
from lianbo.services.commands import SentCommand


class CommandIn(Strict):
    # A plain string, not an enum: an unknown name is a 400 naming the choices.
    command: Line = Field(max_length=64)


class CommandOut(BaseModel):
    id: str
    command: str
    delivered: bool
    sent_at: datetime

    @classmethod
    def of(cls, sent: SentCommand) -> CommandOut:
        return cls(
            id=sent.id, command=sent.command, delivered=bool(sent.delivered), sent_at=sent.sent_at
        )


class CommandStateOut(CommandOut):
    """A sent command as the store has it: ``delivered`` by whichever process
    handed it to the screen, ``acked_at`` whichever process heard the ack."""

    actor: str
    acked_at: datetime | None

    @classmethod
    def of(cls, sent: SentCommand) -> CommandStateOut:
        return cls(
            id=sent.id,
            command=sent.command,
            delivered=sent.delivered,
            sent_at=sent.sent_at,
            actor=sent.actor,
            acked_at=sent.acked_at,
        )
