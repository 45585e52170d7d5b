"""The identifier of a CAP message written here: random, or in China's
profile (``domain.alerting.china``) when ``LIANBO_CAP_SENDER_CODE`` is set."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.alerting.china import SEQUENCES, identifier, second_prefix
from lianbo.domain.errors import Unavailable
from lianbo.services.context import Context

# Ten messages a second per unit is the profile's own limit; past it the
# next free second is used, but not for ever.
_SECONDS_AHEAD = 60


async def new_identifier(container: Context, uow: UnitOfWork, entered: datetime) -> str:
    """An identifier no message of ours has: ``<code>_<second>_<N>`` with the
    lowest free N of the second entered (or of the next free second)."""
    code = container.settings.cap_sender_code
    if code is None:
        return uuid.uuid4().hex
    sender = container.settings.alert_sender
    await uow.alerts.lock_identifiers()  # held until this transaction ends
    for ahead in range(_SECONDS_AHEAD):
        second = entered + timedelta(seconds=ahead)
        taken = await uow.alerts.identifiers_from(sender, second_prefix(code, second))
        for sequence in range(SEQUENCES):
            candidate = identifier(code, second, sequence)
            if candidate not in taken:
                return candidate
    raise Unavailable("too many alerts issued in the last minute; try again shortly")
