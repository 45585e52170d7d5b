"""A command sent to one screen (screenshot, reload, restart) as the console
shows it: when and by whom it was sent, whether a server process handed it
to the screen's connection, and when the screen acknowledged it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SentCommand:
    id: str
    command: str
    sent_at: datetime
    actor: str
    delivered: bool = False  # handed to the screen's connection (not: carried out)
    acked_at: datetime | None = None  # the screen said it carried it out
