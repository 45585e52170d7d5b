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
