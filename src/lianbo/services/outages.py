"""The server's own downtime: runs, alive stamps, outages (ADR 0006).

Each server run stores a row (``server_runs``) when its monitoring job
starts (the moment the server is ready) and stamps it alive every
``ALIVE_S``. A start that finds no alive stamp of any run within
``2 × ALIVE_S`` follows an outage: from the newest stamp (the last moment
the server was known alive) until now. The outage is logged and recorded
in the audit chain as ``server.down`` by ``system``, once for each province
with screens (every screen of it was cut off; its admins read it where they
read control acts), and a later deletion breaks the chain like any other
entry's.

The offline rule gives every screen one hold-off from ready before judging
it (``domain.monitoring.history.offline_cutoff``): a screen could not reach
a server that was down.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

import structlog

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.monitoring.history import Outage, outage
from lianbo.domain.ports import Clock
from lianbo.domain.users import SYSTEM
from lianbo.services import audit

log = structlog.get_logger()

ALIVE_S = 10.0  # how often a run stamps itself alive
ACTION = "server.down"


def new_run_id() -> str:
    return uuid.uuid4().hex


def process_name() -> str:
    """Which process a run is (host and pid), for the operator reading runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


async def start_run(uow: UnitOfWork, clock: Clock, run_id: str, ready: datetime) -> Outage | None:
    """Store this run as ready at ``ready``; the outage before it, recorded in
    the audit chain (None: none)."""
    last_alive = await uow.history.last_alive()
    await uow.history.start_run(run_id, process_name(), ready, last_alive)
    found = outage(last_alive, ready, timedelta(seconds=ALIVE_S))
    if found is not None:
        for province in await uow.history.provinces_with_screens() or [""]:
            await audit.record(
                uow,
                clock,
                SYSTEM,
                ACTION,
                ("server", run_id),
                region=province,
                after=found.as_json(),
            )
    await uow.commit()
    if found is not None:
        log.warning("server was down", **found.as_json())
    return found


async def stamp_alive(uow: UnitOfWork, run_id: str, at: datetime) -> None:
    """This run was alive at ``at``."""
    await uow.history.stamp_alive(run_id, at)
    await uow.commit()
